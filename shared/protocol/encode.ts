import type { Reply } from './reply.ts';

// Turns replies (and requests) into RESP bytes.
//
// Replies are written one after the other into a ReplyWriter, a growing
// buffer; the replies to one read from a socket then leave in one socket
// write, however many pipelined requests that read held. Writing bytes in
// place, rather than making a small Buffer per header and joining them, is
// what keeps a pipelined request down to a microsecond or two.
//
// `take()` hands out what was written as a view of the writer's buffer, not a
// copy: the writer never writes over bytes it handed out, it moves on, and
// starts a new buffer (a "slab") when the current one is full. Copying each
// reply and log record into a Buffer of its own cost about 0.2 us apiece, a
// tenth of what step 06 spends on a SET beyond the socket calls. Node's own
// Buffer.allocUnsafe hands out small buffers from a shared 8 KB slab the same
// way.

const CR = 13;
const LF = 10;
const OK_BYTES = Buffer.from('+OK\r\n');
const NIL_BYTES = Buffer.from('$-1\r\n');
const NULL_BYTES = Buffer.from('_\r\n'); // RESP3's one null
const TXT_PREFIX = Buffer.from('txt:');

/** The RESP version a connection speaks: 2 until the client sends `HELLO 3`. */
export type Protocol = 2 | 3;

const SLAB_BYTES = 8192;

export class ReplyWriter {
  private buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private start = 0; // bytes before this were handed out by take()
  private length = 0; // bytes written in the buffer, handed out or not

  /**
   * RESP2 or RESP3, for the replies written from now on. A connection's
   * writer is switched by its HELLO (see shared/server/client-state.ts).
   */
  protocol: Protocol = 2;

  /** Appends one reply. */
  reply(reply: Reply): void {
    switch (reply.type) {
      case 'simple':
        if (reply.value === 'OK') this.raw(OK_BYTES);
        else this.line(43, oneLine(reply.value)); // '+'
        return;
      case 'error':
        this.line(45, oneLine(reply.message ? `${reply.code} ${reply.message}` : reply.code)); // '-'
        return;
      case 'integer':
        if (reply.exact !== undefined) this.line(58, String(reply.exact));
        else this.numberLine(58, reply.value); // ':'
        return;
      case 'bulk':
        if (reply.value === null) this.raw(this.protocol === 3 ? NULL_BYTES : NIL_BYTES);
        else if (reply.verbatim && this.protocol === 3) this.verbatim(reply.value);
        else this.bulk(reply.value);
        return;
      case 'array':
        if (reply.value === null) {
          if (this.protocol === 3) this.raw(NULL_BYTES);
          else this.numberLine(42, -1); // '*-1': a nil array
          return;
        }
        this.arrayHeader(reply.value.length);
        for (const item of reply.value) this.reply(item);
        return;
      case 'map':
        // RESP3: '%' and the number of pairs; RESP2: an array twice as long.
        if (this.protocol === 3) this.numberLine(37, reply.value.length); // '%'
        else this.arrayHeader(2 * reply.value.length);
        for (const [key, value] of reply.value) {
          this.reply(key);
          this.reply(value);
        }
        return;
    }
  }

  /** Appends `*<count>\r\n`: an array of that many elements follows. */
  arrayHeader(count: number): void {
    this.numberLine(42, count); // '*'
  }

  /** Appends a bulk string: `$<length>\r\n<bytes>\r\n`. */
  bulk(bytes: Uint8Array): void {
    this.numberLine(36, bytes.length); // '$'
    this.raw(bytes);
    this.buffer[this.length++] = CR; // raw() left room for these two
    this.buffer[this.length++] = LF;
  }

  /**
   * Appends only the header of a bulk string of `length` bytes, `$<length>\r\n`:
   * its bytes and CRLF are sent after it by the caller (a big value's log
   * record, shared/persistence/task.ts).
   */
  bulkHeader(length: number): void {
    this.numberLine(36, length); // '$'
  }

  /** Appends a RESP3 verbatim string: `=<length>\r\ntxt:<bytes>\r\n`. */
  private verbatim(bytes: Uint8Array): void {
    this.numberLine(61, TXT_PREFIX.length + bytes.length); // '='
    this.raw(TXT_PREFIX);
    this.raw(bytes);
    this.buffer[this.length++] = CR;
    this.buffer[this.length++] = LF;
  }

  /** Appends a bulk string holding an integer in decimal: `$<digits>\r\n<digits>\r\n`. */
  bulkInteger(value: number): void {
    if (!Number.isSafeInteger(value)) return this.bulk(Buffer.from(String(value)));
    this.numberLine(36, decimalLength(value)); // '$'
    this.room(24);
    this.decimal(value);
    this.buffer[this.length++] = CR;
    this.buffer[this.length++] = LF;
  }

  /** Bytes written since the last take(). */
  get size(): number {
    return this.length - this.start;
  }

  /**
   * Everything written since the last take(), as a Buffer; the writer starts
   * empty again. The bytes are never written over: the Buffer can be kept.
   */
  take(): Buffer {
    const out = this.buffer.subarray(this.start, this.length);
    this.start = this.length;
    // A buffer grown for one large reply is not kept for small ones: a view
    // of it, sent to another thread, would copy all of it.
    if (this.buffer.length > SLAB_BYTES) this.newSlab(0);
    return out;
  }

  /** A type byte, a line of ASCII text, CRLF. */
  private line(type: number, text: string): void {
    this.room(text.length * 3 + 3);
    this.buffer[this.length++] = type;
    this.length += this.buffer.write(text, this.length, 'utf8');
    this.buffer[this.length++] = CR;
    this.buffer[this.length++] = LF;
  }

  /** A type byte, an integer in decimal, CRLF. */
  private numberLine(type: number, value: number): void {
    if (!Number.isSafeInteger(value)) return this.line(type, String(value));
    this.room(24);
    this.buffer[this.length++] = type;
    this.decimal(value);
    this.buffer[this.length++] = CR;
    this.buffer[this.length++] = LF;
  }

  /** An integer's decimal digits, written one by one (no string made); room is the caller's. */
  private decimal(value: number): void {
    if (value < 0) {
      this.buffer[this.length++] = 45; // '-'
      value = -value;
    }
    const digits = decimalLength(value);
    for (let i = this.length + digits - 1; i >= this.length; i--) {
      this.buffer[i] = 48 + (value % 10);
      value = Math.floor(value / 10);
    }
    this.length += digits;
  }

  /** Bytes as they are (with room for a CRLF after them). */
  private raw(bytes: Uint8Array): void {
    this.room(bytes.length + 2);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    this.newSlab(bytes);
  }

  /** Moves what is not yet taken to a fresh buffer with room for `bytes` more. */
  private newSlab(bytes: number): void {
    const pending = this.length - this.start;
    const fresh = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, 2 * (pending + bytes)));
    this.buffer.copy(fresh, 0, this.start, this.length);
    this.buffer = fresh;
    this.start = 0;
    this.length = pending;
  }
}

/** How many characters `value` takes in decimal, its sign included (no string made). */
export function decimalLength(value: number): number {
  let length = value < 0 ? 2 : 1;
  for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) length++;
  return length;
}

// Encoding is synchronous, so one writer per thread serves every call below.
const scratch = new ReplyWriter();

/** One reply as a Buffer, in RESP2 unless told otherwise. */
export function encodeReply(reply: Reply, protocol: Protocol = 2): Buffer {
  scratch.protocol = protocol;
  scratch.reply(reply);
  scratch.protocol = 2;
  return scratch.take();
}

/** Encodes a request the way redis-cli does: an array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | Uint8Array>): Buffer {
  scratch.arrayHeader(args.length);
  for (const arg of args) scratch.bulk(typeof arg === 'string' ? Buffer.from(arg) : arg);
  return scratch.take();
}

// A simple string or an error must not contain CR or LF: it would end the line
// early and desynchronise the client.
function oneLine(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]+/g, ' ') : text;
}
