// The replies a server sends, as values. The same type describes what the
// encoder writes (server side) and what the reply parser reads (client side).
//
// RESP2 on the wire:
//   simple  +OK\r\n
//   error   -NOT_FOUND key 'k' does not exist\r\n    (first word = the code)
//   integer :42\r\n
//   bulk    $5\r\nhello\r\n       nil: $-1\r\n
//   array   *2\r\n<reply><reply>  nil: *-1\r\n
//   map     as an array: key, value, key, value...
//
// RESP3 (after `HELLO 3`, per connection: see encode.ts) writes the same
// values with more types: a nil bulk or a nil array is the null `_\r\n`; a
// map is `%2\r\n<key><value><key><value>`; a bulk marked `verbatim` (INFO,
// CLIENT INFO) is `=<length>\r\ntxt:<text>\r\n`. The other types are the same bytes
// in both.

export type Reply =
  | { type: 'simple'; value: string }
  | { type: 'error'; code: string; message: string }
  // `exact`: a 64-bit result that a JS number cannot hold exactly (INCRBY near 2^63).
  | { type: 'integer'; value: number; exact?: bigint }
  | { type: 'bulk'; value: Buffer | null; verbatim?: true }
  | { type: 'array'; value: Reply[] | null }
  | { type: 'map'; value: Array<[Reply, Reply]> };

export const OK: Reply = { type: 'simple', value: 'OK' };
export const NIL: Reply = { type: 'bulk', value: null };

export const simple = (value: string): Reply => ({ type: 'simple', value });
export const integer = (value: number | bigint): Reply =>
  typeof value === 'number' ? { type: 'integer', value }
    : Number.isSafeInteger(Number(value)) ? { type: 'integer', value: Number(value) }
      : { type: 'integer', value: Number(value), exact: value };
export const bulk = (value: Buffer | string | null): Reply => ({
  type: 'bulk',
  value: typeof value === 'string' ? Buffer.from(value) : value,
});
export const array = (value: Reply[] | null): Reply => ({ type: 'array', value });
/** A map: RESP3's `%`, a flat array of key, value... in RESP2 (HELLO, CONFIG GET). */
export const map = (entries: Array<[string, Reply]>): Reply => ({
  type: 'map', value: entries.map(([key, value]) => [bulk(key), value]),
});
/** Text for people (INFO, CLIENT INFO): RESP3's verbatim string `=`, a bulk string in RESP2. */
export const verbatim = (text: string): Reply => ({ type: 'bulk', value: Buffer.from(text), verbatim: true });

/** An error reply. The code is the first word a client can match on. */
export const error = (code: string, message: string): Reply => ({ type: 'error', code, message });

/** The error codes this server uses, in one place. */
export const ErrorCode = {
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  NOT_FOUND: 'NOT_FOUND',
  INVALID_COMMAND: 'INVALID_COMMAND',
  INVALID_VALUE: 'INVALID_VALUE',
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  BUSY: 'BUSY',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** Redis's code for a write past maxmemory (the store throws it as StoreError 'OOM'). */
  OOM: 'OOM',
} as const;

/** One line for people: `OK`, `(nil)`, `(integer) 3`, `NOT_FOUND key ...`. */
export function describeReply(reply: Reply): string {
  switch (reply.type) {
    case 'simple':
      return reply.value;
    case 'error':
      return `${reply.code} ${reply.message}`.trim();
    case 'integer':
      return `(integer) ${reply.exact ?? reply.value}`;
    case 'map':
      return `{${reply.value.map(([key, value]) => `${describeReply(key)}: ${describeReply(value)}`).join(', ')}}`;
    case 'bulk':
      return reply.value === null ? '(nil)' : JSON.stringify(reply.value.toString('utf8'));
    case 'array':
      return reply.value === null ? '(nil array)' : `[${reply.value.map(describeReply).join(', ')}]`;
  }
}
