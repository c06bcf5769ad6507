// An incremental parser for RESP2 requests.
//
// TCP delivers a stream of bytes, not messages: one read may hold half a
// command, or ten commands and the start of an eleventh. (The Python seed took
// each recv(1024) as exactly one command, and misread both cases.) This parser
// keeps its state between reads, so it yields the same commands however the
// stream is cut.
//
// Two request forms are accepted, as Redis does:
//
//   *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n   an array of bulk strings (what
//                                                   client libraries send)
//   SET k "hello world"\r\n                        an inline command (what a
//                                                   person types in nc or telnet)
//
// Every size is bounded (see ParserLimits): past a bound the parser reports a
// fatal protocol error and the server closes that one connection. Nothing a
// client sends can make the parser hold more than about
// maxRequestBytes + maxInlineBytes of its data.
//
// BIG ARGUMENTS. A bulk string of BIG_BULK_BYTES or more that does not come
// in one read gets a buffer of its declared length at once, and each read is
// copied into it as it comes: every byte is copied once, and a 100 MB value
// arriving slowly costs each read its own few microseconds, never a 100 MB
// join at the end (the event loop serves the other clients in between). The
// buffer is a SharedArrayBuffer of exactly that length, which step 06's store
// keeps as it is instead of copying it again (growable-store.ts). Allocating
// it costs address space, not RAM: the system hands out pages as the bytes
// arrive.

export interface ParserLimits {
  /** Longest inline command line, in bytes. */
  maxInlineBytes: number;
  /** Largest bulk string (one argument), in bytes. */
  maxBulkBytes: number;
  /** Most arguments in one request. */
  maxArgs: number;
  /** Largest request, all arguments added up, in bytes. */
  maxRequestBytes: number;
}

/** Bulk strings this long or longer, cut across reads, are copied into a buffer of their own as they come. */
export const BIG_BULK_BYTES = 64 * 1024;

export const DEFAULT_LIMITS: ParserLimits = {
  maxInlineBytes: 64 * 1024,
  maxBulkBytes: 1024 * 1024,
  maxArgs: 1024,
  maxRequestBytes: 4 * 1024 * 1024,
};

export type ParseEvent =
  /** A complete request: the command name and its arguments. */
  | { kind: 'command'; args: Buffer[] }
  /**
   * A request that cannot be understood. When `fatal`, the byte stream can no
   * longer be trusted (we do not know where the next request starts): reply
   * and close the connection. Otherwise only this request is rejected.
   */
  | { kind: 'error'; message: string; fatal: boolean };

// Header lines such as `*3` or `$11` are short; a long one is garbage.
const MAX_HEADER_BYTES = 32;
const LF = 10;
const CR = 13;
const STAR = 42; // '*'
const DOLLAR = 36; // '$'

type State =
  | 'start' // between requests
  | 'inline' // reading an inline command line
  | 'arrayHeader' // reading `*<count>`
  | 'bulkHeader' // reading `$<length>`
  | 'bulkBody' // reading <length> bytes and CRLF
  | 'failed'; // after a fatal error: ignore everything

export class RequestParser {
  private state: State = 'start';
  // Bytes of an unfinished line or bulk string, kept as the chunks they came
  // in and joined once complete: joining on every read would cost O(n^2)
  // when a client sends one byte at a time.
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  // The request being assembled.
  private args: Buffer[] = [];
  private argsExpected = 0;
  private bulkLength = 0;
  private requestBytes = 0;
  // A big bulk string being filled (see above): how much of it came, and how
  // many bytes of its CRLF.
  private big: Buffer | null = null;
  private bigFilled = 0;
  private bigLineEnd = 0;

  constructor(private readonly limits: ParserLimits = DEFAULT_LIMITS) {}

  /** True after a fatal error: the connection should be closed. */
  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Bytes held for an unfinished request (for tests of the memory bound). */
  get bufferedBytes(): number {
    return this.pendingBytes + this.bigFilled + this.args.reduce((sum, arg) => sum + arg.length, 0);
  }

  /** Feeds the next bytes of the stream; returns every event they complete. */
  push(chunk: Buffer): ParseEvent[] {
    const events: ParseEvent[] = [];
    let pos = 0;
    while (pos < chunk.length && this.state !== 'failed') {
      if (this.state === 'start') {
        this.state = chunk[pos] === STAR ? 'arrayHeader' : 'inline';
      }
      if (this.state === 'bulkBody') {
        pos = this.readBulkBody(chunk, pos, events);
        continue;
      }
      // Every other state reads one line.
      const limit = this.state === 'inline' ? this.limits.maxInlineBytes : MAX_HEADER_BYTES;
      const newline = chunk.indexOf(LF, pos);
      const available = (newline === -1 ? chunk.length : newline) - pos;
      if (this.pendingBytes + available > limit) {
        this.fail(events, this.state === 'inline'
          ? `inline command longer than ${limit} bytes`
          : 'invalid header line (expected *<count> or $<length>)');
        break;
      }
      if (newline === -1) {
        this.keep(chunk.subarray(pos));
        break;
      }
      // The usual case reads the line in place; a line cut across reads is
      // first joined with what was kept of it.
      const line = this.pendingBytes === 0 ? chunk : this.join(chunk.subarray(pos, newline));
      const start = line === chunk ? pos : 0;
      let end = line === chunk ? newline : line.length;
      if (end > start && line[end - 1] === CR) end--; // CRLF; a bare LF is accepted too (nc without -C)
      pos = newline + 1;
      this.handleLine(line, start, end, events);
    }
    return events;
  }

  /** Handles the line `buf[start..end)` (without its line ending). */
  private handleLine(buf: Buffer, start: number, end: number, events: ParseEvent[]): void {
    switch (this.state) {
      case 'inline':
        this.state = 'start';
        this.handleInline(buf.toString('latin1', start, end), events);
        return;
      case 'arrayHeader': {
        const count = parseInteger(buf, start + 1, end);
        if (count === null) return this.fail(events, `invalid array header '${printable(buf, start, end)}'`);
        if (count > this.limits.maxArgs) {
          return this.fail(events, `too many arguments (${count}, the limit is ${this.limits.maxArgs})`);
        }
        if (count <= 0) {
          this.state = 'start'; // `*0` and `*-1` are empty requests: ignore them, as Redis does
          return;
        }
        this.argsExpected = count;
        this.state = 'bulkHeader';
        return;
      }
      case 'bulkHeader': {
        if (buf[start] !== DOLLAR) {
          return this.fail(events, `expected '$' but got '${printable(buf, start, Math.min(end, start + 1))}'`);
        }
        const length = parseInteger(buf, start + 1, end);
        if (length === null || length < 0) {
          return this.fail(events, `invalid bulk length '${printable(buf, start, end)}'`);
        }
        if (length > this.limits.maxBulkBytes) {
          return this.fail(events, `argument of ${length} bytes, the limit is ${this.limits.maxBulkBytes}`);
        }
        if (this.requestBytes + length > this.limits.maxRequestBytes) {
          return this.fail(events, `request larger than ${this.limits.maxRequestBytes} bytes`);
        }
        this.bulkLength = length;
        this.state = 'bulkBody';
        return;
      }
    }
  }

  private readBulkBody(chunk: Buffer, pos: number, events: ParseEvent[]): number {
    if (this.big !== null) return this.readBigBody(chunk, pos, events);
    const needed = this.bulkLength + 2 - this.pendingBytes; // the body and its CRLF
    if (chunk.length - pos < needed) {
      if (this.pendingBytes === 0 && this.bulkLength >= BIG_BULK_BYTES) {
        this.big = Buffer.from(new SharedArrayBuffer(this.bulkLength));
        this.bigFilled = 0;
        this.bigLineEnd = 0;
        return this.readBigBody(chunk, pos, events);
      }
      this.keep(chunk.subarray(pos));
      return chunk.length;
    }
    // The usual case takes the argument in place, without copying it.
    const body = this.pendingBytes === 0 ? chunk : this.join(chunk.subarray(pos, pos + needed));
    const start = body === chunk ? pos : 0;
    const end = start + this.bulkLength;
    if (body[end] !== CR || body[end + 1] !== LF) {
      this.fail(events, 'bulk string not followed by CRLF');
      return chunk.length;
    }
    this.finishArgument(body.subarray(start, end), events);
    return pos + needed;
  }

  // Copies what `chunk` holds of the big bulk string (and its CRLF).
  private readBigBody(chunk: Buffer, pos: number, events: ParseEvent[]): number {
    const big = this.big!;
    const n = Math.min(big.length - this.bigFilled, chunk.length - pos);
    chunk.copy(big, this.bigFilled, pos, pos + n);
    this.bigFilled += n;
    pos += n;
    for (; pos < chunk.length && this.bigLineEnd < 2; pos++, this.bigLineEnd++) {
      if (chunk[pos] !== (this.bigLineEnd === 0 ? CR : LF)) {
        this.fail(events, 'bulk string not followed by CRLF');
        return chunk.length;
      }
    }
    if (this.bigLineEnd === 2) {
      this.big = null;
      this.bigFilled = 0;
      this.finishArgument(big, events);
    }
    return pos;
  }

  private finishArgument(arg: Buffer, events: ParseEvent[]): void {
    this.args.push(arg);
    this.requestBytes += arg.length;
    if (this.args.length === this.argsExpected) {
      events.push({ kind: 'command', args: this.args });
      this.args = [];
      this.requestBytes = 0;
      this.state = 'start';
    } else {
      this.state = 'bulkHeader';
    }
  }

  private handleInline(text: string, events: ParseEvent[]): void {
    const words = splitInline(text);
    if (words === null) {
      events.push({ kind: 'error', message: 'unbalanced quotes in inline command', fatal: false });
    } else if (words.length > this.limits.maxArgs) {
      events.push({ kind: 'error', message: `too many arguments (the limit is ${this.limits.maxArgs})`, fatal: false });
    } else if (words.length > 0) {
      // An empty line is ignored, as Redis does (people press Enter).
      events.push({ kind: 'command', args: words.map((word) => Buffer.from(word, 'latin1')) });
    }
  }

  private keep(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /** The kept bytes followed by `tail`, as one Buffer; clears what was kept. */
  private join(tail: Buffer): Buffer {
    this.pending.push(tail);
    const whole = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return whole;
  }

  private fail(events: ParseEvent[], message: string): void {
    this.state = 'failed';
    this.pending = [];
    this.pendingBytes = 0;
    this.args = [];
    this.big = null;
    this.bigFilled = 0;
    events.push({ kind: 'error', message, fatal: true });
  }
}

/**
 * The decimal integer in `buf[start..end)` (`12`, `-1`); null unless it is a
 * plain integer of at most 15 digits. Read byte by byte: this runs twice per
 * argument, so it avoids making a string.
 */
function parseInteger(buf: Buffer, start: number, end: number): number | null {
  const negative = buf[start] === 45; // '-'
  let i = negative ? start + 1 : start;
  if (i >= end || end - i > 15) return null;
  let value = 0;
  for (; i < end; i++) {
    const digit = buf[i]! - 48;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** Shows a short, safe excerpt of bad input in an error message. */
function printable(buf: Buffer, start: number, end: number): string {
  return buf
    .toString('latin1', start, Math.min(end, start + 20))
    .replace(/[^\x20-\x7e]/g, '?');
}

/**
 * Splits an inline command into words. Double quotes group words and allow
 * escapes (\" \\ \n \r \t \xHH); single quotes group words literally (\' is a
 * quote). Returns null when a quote is never closed. Works on latin1 text so
 * that every byte survives the trip.
 */
export function splitInline(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  while (true) {
    while (i < line.length && isSpace(line[i]!)) i++;
    if (i >= line.length) return words;
    let word = '';
    let quote: '"' | "'" | null = null;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (quote === '"') {
        if (c === '\\' && i + 1 < line.length) {
          const next = line[i + 1]!;
          const hex = line.slice(i + 2, i + 4);
          if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(hex)) {
            word += String.fromCharCode(parseInt(hex, 16));
            i += 3;
          } else {
            word += ESCAPES[next] ?? next;
            i += 1;
          }
        } else if (c === '"') {
          quote = null;
          // A closing quote must end the word: `"a"b` is an error, as in Redis.
          if (i + 1 < line.length && !isSpace(line[i + 1]!)) return null;
        } else {
          word += c;
        }
      } else if (quote === "'") {
        if (c === '\\' && line[i + 1] === "'") {
          word += "'";
          i += 1;
        } else if (c === "'") {
          quote = null;
          if (i + 1 < line.length && !isSpace(line[i + 1]!)) return null;
        } else {
          word += c;
        }
      } else if (isSpace(c)) {
        break;
      } else if ((c === '"' || c === "'") && word === '') {
        quote = c;
      } else {
        word += c;
      }
    }
    if (quote !== null) return null;
    words.push(word);
  }
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}
