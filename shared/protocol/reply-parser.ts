import { integer, type Reply } from './reply.ts';

// An incremental parser for RESP2 replies: the client side of the protocol,
// used by the interactive client and the tester. Like the request parser it
// keeps its state between reads, so replies may arrive cut anywhere.
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
    case '-': {
      const space = line.indexOf(' ');
      const code = space === -1 ? line : line.slice(0, space);
      const message = space === -1 ? '' : line.slice(space + 1);
      return { reply: { type: 'error', code, message }, next };
    }
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
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (item === null) return null;
        items.push(item.reply);
        at = item.next;
      }
      return { reply: { type: 'array', value: items }, next: at };
    }
    default:
      throw new ReplyParserError(`unexpected reply type byte ${JSON.stringify(type)}`);
  }
}

function toInteger(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new ReplyParserError(`invalid integer ${JSON.stringify(text)}`);
  return Number(text);
}
