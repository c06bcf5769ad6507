import { integer, type Reply } from './reply.ts';

// An incremental parser for RESP2 and RESP3 replies: the client side of the
// protocol, used by the interactive client and the tester. Like the request
// parser it keeps its state between reads, so replies may arrive cut anywhere.
//
// RESP3 (after `HELLO 3`) adds types, read here as the Reply values the rest
// of the course knows: the null `_` as a nil bulk, a map `%` as a map, a
// verbatim string `=` as a bulk marked verbatim (its `txt:` prefix dropped),
// a set `~` and a push `>` as arrays, a double `,` and a big number `(` as
// bulk text and an exact integer, a boolean `#` as the integer 1 or 0, a blob
// error `!` as an error; an attribute `|` is read and skipped.
//
// It reparses an unfinished reply from its first byte when more data comes;
// replies from our servers are small, so that is simpler than a resumable state
// machine and costs little. A bound on buffered bytes protects the client from
// a server that sends endless garbage.

const LF = 10;

export class ReplyParserError extends Error {}

export class ReplyParser {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBufferedBytes = 512 * 1024 * 1024) {}

  /** Feeds bytes; returns every reply they complete. Throws ReplyParserError on bad input. */
  push(chunk: Buffer): Reply[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const replies: Reply[] = [];
    let pos = 0;
    while (pos < this.buffer.length) {
      const parsed = parseReply(this.buffer, pos);
      if (parsed === null) break; // incomplete: wait for more bytes
      replies.push(parsed.reply);
      pos = parsed.next;
    }
    this.buffer = pos === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(pos);
    if (this.buffer.length > this.maxBufferedBytes) {
      throw new ReplyParserError(`reply larger than ${this.maxBufferedBytes} bytes`);
    }
    return replies;
  }
}

type Parsed = { reply: Reply; next: number } | null;

function parseReply(buf: Buffer, pos: number): Parsed {
  const lineEnd = buf.indexOf(LF, pos);
  if (lineEnd === -1) return null;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('utf8', pos + 1, buf[lineEnd - 1] === 13 ? lineEnd - 1 : lineEnd);
  const next = lineEnd + 1;
  switch (type) {
    case '+':
      return { reply: { type: 'simple', value: line }, next };
    case '-':
      return { reply: errorReply(line), next };
    case ':': {
      const value = toInteger(line);
      // Beyond 2^53 a number is not exact: keep the digits too (INCRBY near 2^63).
      return { reply: line.length > 15 ? integer(BigInt(line)) : { type: 'integer', value }, next };
    }
    case '$': {
      const length = toInteger(line);
      if (length < 0) return { reply: { type: 'bulk', value: null }, next };
      if (buf.length < next + length + 2) return null;
      // Copy: the reply outlives the parser's buffer.
      return { reply: { type: 'bulk', value: Buffer.from(buf.subarray(next, next + length)) }, next: next + length + 2 };
    }
    case '*': {
      const count = toInteger(line);
      if (count < 0) return { reply: { type: 'array', value: null }, next };
      const items = parseItems(buf, next, count);
      return items === null ? null : { reply: { type: 'array', value: items.replies }, next: items.next };
    }
    case '_':
      return { reply: { type: 'bulk', value: null }, next };
    case '#':
      if (line !== 't' && line !== 'f') throw new ReplyParserError(`invalid boolean ${JSON.stringify(line)}`);
      return { reply: { type: 'integer', value: line === 't' ? 1 : 0 }, next };
    case ',':
      return { reply: { type: 'bulk', value: Buffer.from(line) }, next };
    case '(':
      if (!/^-?\d+$/.test(line)) throw new ReplyParserError(`invalid big number ${JSON.stringify(line)}`);
      return { reply: integer(BigInt(line)), next };
    case '=':
    case '!': {
      const length = toInteger(line);
      if (length < 0) throw new ReplyParserError(`invalid length ${length}`);
      if (buf.length < next + length + 2) return null;
      const text = buf.subarray(next, next + length);
      const after = next + length + 2;
      if (type === '!') return { reply: errorReply(text.toString('utf8')), next: after };
      // `txt:` or `mkd:` first: the format, not the text.
      return { reply: { type: 'bulk', value: Buffer.from(text.subarray(4)), verbatim: true }, next: after };
    }
    case '~':
    case '>': {
      const items = parseItems(buf, next, toInteger(line));
      return items === null ? null : { reply: { type: 'array', value: items.replies }, next: items.next };
    }
    case '%':
    case '|': {
      const items = parseItems(buf, next, 2 * toInteger(line));
      if (items === null) return null;
      if (type === '|') return parseReply(buf, items.next); // attributes annotate the reply after them
      const entries: Array<[Reply, Reply]> = [];
      for (let i = 0; i < items.replies.length; i += 2) entries.push([items.replies[i]!, items.replies[i + 1]!]);
      return { reply: { type: 'map', value: entries }, next: items.next };
    }
    default:
      throw new ReplyParserError(`unexpected reply type byte ${JSON.stringify(type)}`);
  }
}

/** `count` replies one after another from `at`, or null while incomplete. */
function parseItems(buf: Buffer, at: number, count: number): { replies: Reply[]; next: number } | null {
  if (count < 0) throw new ReplyParserError(`invalid count ${count}`);
  const replies: Reply[] = [];
  for (let i = 0; i < count; i++) {
    const item = parseReply(buf, at);
    if (item === null) return null;
    replies.push(item.reply);
    at = item.next;
  }
  return { replies, next: at };
}

/** `CODE the message`: the first word is the code a client can match on. */
function errorReply(line: string): Reply {
  const space = line.indexOf(' ');
  const code = space === -1 ? line : line.slice(0, space);
  const message = space === -1 ? '' : line.slice(space + 1);
  return { type: 'error', code, message };
}

function toInteger(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new ReplyParserError(`invalid integer ${JSON.stringify(text)}`);
  return Number(text);
}
