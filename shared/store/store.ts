// The store interface every step implements. Commands (shared/commands) are
// written against it, so a step swaps the store (a Map, a hash table in shared
// memory, ...) without touching a single command.
//
// Every method is synchronous on purpose: a command is a short sequence of
// store calls, and the course is about what happens when two threads run such
// sequences at the same time. Keys and values are Buffers, so they are
// binary-safe.

export interface Store {
  /** The value stored under `key`, or undefined when the key is absent. */
  get(key: Buffer): Buffer | undefined;
  /** Creates or replaces `key`. Throws a StoreError when a limit is exceeded. */
  set(key: Buffer, value: Buffer): void;
  /** Removes `key`; true when it was there. */
  delete(key: Buffer): boolean;
  /** How many keys are stored. */
  size(): number;
  /** A snapshot of every entry (order unspecified). */
  entries(): Array<[Buffer, Buffer]>;
}

/**
 * A limit of the store was exceeded. `code` becomes the first word of the
 * error reply (for example `-TOO_LARGE key is 300 bytes, the limit is 256`).
 */
export class StoreError extends Error {
  constructor(
    readonly code: 'TOO_LARGE' | 'STORE_FULL' | 'CORRUPTED' | 'OOM',
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
