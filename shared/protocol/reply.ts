// The replies a server sends, as values. The same type describes what the
// encoder writes (server side) and what the reply parser reads (client side).
//
// RESP2 on the wire:
//   simple  +OK\r\n
//   error   -NOT_FOUND key 'k' does not exist\r\n    (first word = the code)
//   integer :42\r\n
//   bulk    $5\r\nhello\r\n       nil: $-1\r\n
//   array   *2\r\n<reply><reply>  nil: *-1\r\n

export type Reply =
  | { type: 'simple'; value: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'integer'; value: number }
  | { type: 'bulk'; value: Buffer | null }
  | { type: 'array'; value: Reply[] | null };

export const OK: Reply = { type: 'simple', value: 'OK' };
export const NIL: Reply = { type: 'bulk', value: null };

export const simple = (value: string): Reply => ({ type: 'simple', value });
export const integer = (value: number): Reply => ({ type: 'integer', value });
export const bulk = (value: Buffer | string | null): Reply => ({
  type: 'bulk',
  value: typeof value === 'string' ? Buffer.from(value) : value,
});
export const array = (value: Reply[] | null): Reply => ({ type: 'array', value });

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
      return `(integer) ${reply.value}`;
    case 'bulk':
      return reply.value === null ? '(nil)' : JSON.stringify(reply.value.toString('utf8'));
    case 'array':
      return reply.value === null ? '(nil array)' : `[${reply.value.map(describeReply).join(', ')}]`;
  }
}
