import type { Reply } from './reply.ts';

// Turns replies into RESP bytes. Replies of one read are encoded together
// (see Session), so a pipelined batch leaves in one socket write.

const CRLF = '\r\n';
const OK_BYTES = Buffer.from('+OK\r\n');
const NIL_BYTES = Buffer.from('$-1\r\n');

export function encodeReply(reply: Reply): Buffer {
  const parts: Buffer[] = [];
  appendReply(reply, parts);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

export function appendReply(reply: Reply, parts: Buffer[]): void {
  switch (reply.type) {
    case 'simple':
      parts.push(reply.value === 'OK' ? OK_BYTES : Buffer.from(`+${oneLine(reply.value)}${CRLF}`));
      return;
    case 'error': {
      const text = reply.message ? `${reply.code} ${reply.message}` : reply.code;
      parts.push(Buffer.from(`-${oneLine(text)}${CRLF}`));
      return;
    }
    case 'integer':
      parts.push(Buffer.from(`:${reply.value}${CRLF}`));
      return;
    case 'bulk':
      if (reply.value === null) {
        parts.push(NIL_BYTES);
      } else {
        parts.push(Buffer.from(`$${reply.value.length}${CRLF}`), reply.value, Buffer.from(CRLF));
      }
      return;
    case 'array':
      if (reply.value === null) {
        parts.push(Buffer.from(`*-1${CRLF}`));
        return;
      }
      parts.push(Buffer.from(`*${reply.value.length}${CRLF}`));
      for (const item of reply.value) appendReply(item, parts);
      return;
  }
}

/** Encodes a request the way redis-cli does: an array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}${CRLF}`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}${CRLF}`), bytes, Buffer.from(CRLF));
  }
  return Buffer.concat(parts);
}

// A simple string or an error must not contain CR or LF: it would end the line
// early and desynchronise the client.
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]+/g, ' ') : text;
}
