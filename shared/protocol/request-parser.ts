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

  constructor(private readonly limits: ParserLimits = DEFAULT_LIMITS) {}

  /** True after a fatal error: the connection should be closed. */
  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Bytes held for an unfinished request (for tests of the memory bound). */
  get bufferedBytes(): number {
    return this.pendingBytes + this.args.reduce((sum, arg) => sum + arg.length, 0);
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
      const end = newline === -1 ? chunk.length : newline;
      if (this.pendingBytes + (end - pos) > limit) {
        this.fail(events, this.state === 'inline'
          ? `inline command longer than ${limit} bytes`
          : 'invalid header line (expected *<count> or $<length>)');
        break;
      }
      if (newline === -1) {
        this.keep(chunk.subarray(pos));
        break;
      }
      const line = this.takeLine(chunk.subarray(pos, newline));
      pos = newline + 1;
      this.handleLine(line, events);
    }
    return events;
  }

  private handleLine(line: Buffer, events: ParseEvent[]): void {
    switch (this.state) {
      case 'inline':
        this.state = 'start';
        this.handleInline(line, events);
        return;
      case 'arrayHeader': {
        const count = parseLength(line, STAR);
        if (count === null) return this.fail(events, `invalid array header '${printable(line)}'`);
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
        if (line[0] !== DOLLAR) {
          return this.fail(events, `expected '$' but got '${printable(line.subarray(0, 1))}'`);
        }
        const length = parseLength(line, DOLLAR);
        if (length === null || length < 0) {
          return this.fail(events, `invalid bulk length '${printable(line)}'`);
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
    const needed = this.bulkLength + 2 - this.pendingBytes; // the body and its CRLF
    const available = chunk.length - pos;
    if (available < needed) {
      this.keep(chunk.subarray(pos));
      return chunk.length;
    }
    const body = this.takeLine(chunk.subarray(pos, pos + needed));
    if (body[this.bulkLength] !== CR || body[this.bulkLength + 1] !== LF) {
      this.fail(events, 'bulk string not followed by CRLF');
      return chunk.length;
    }
    this.args.push(body.subarray(0, this.bulkLength));
    this.requestBytes += this.bulkLength;
    if (this.args.length === this.argsExpected) {
      events.push({ kind: 'command', args: this.args });
      this.args = [];
      this.requestBytes = 0;
      this.state = 'start';
    } else {
      this.state = 'bulkHeader';
    }
    return pos + needed;
  }

  private handleInline(line: Buffer, events: ParseEvent[]): void {
    const text = line.toString('latin1');
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
  private takeLine(tail: Buffer): Buffer {
    let whole = tail;
    if (this.pending.length > 0) {
      this.pending.push(tail);
      whole = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
    }
    // A line ends with LF; strip the CR before it (RESP requires CRLF, and
    // we also accept a bare LF so that `nc` without -C works).
    if (this.state !== 'bulkBody' && whole.length > 0 && whole[whole.length - 1] === CR) {
      return whole.subarray(0, whole.length - 1);
    }
    return whole;
  }

  private fail(events: ParseEvent[], message: string): void {
    this.state = 'failed';
    this.pending = [];
    this.pendingBytes = 0;
    this.args = [];
    events.push({ kind: 'error', message, fatal: true });
  }
}

/** `*12` or `$-1` -> the number; null unless it is a plain decimal integer. */
function parseLength(line: Buffer, prefix: number): number | null {
  if (line[0] !== prefix || line.length < 2 || line.length > 20) return null;
  const text = line.toString('latin1', 1);
  if (!/^-?\d+$/.test(text)) return null;
  return Number(text);
}

/** Shows a short, safe excerpt of bad input in an error message. */
function printable(bytes: Buffer): string {
  return bytes
    .subarray(0, 20)
    .toString('latin1')
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
