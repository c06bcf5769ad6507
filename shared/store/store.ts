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

  // EXPIRY AND TYPES (issue 13). Optional: a store that leaves them out has
  // no expiry and no lists (steps 02-05's fixed SharedStore), and the
  // commands that need them answer a clear error. A wrapper (RecordingStore,
  // VersionedStore, ExpiringStore) offers them exactly when its inner store
  // does. These are raw: they do not hide an expired key (ExpiringStore,
  // shared/commands/expiry.ts, does, on top of the chain).

  /** When `key` expires, in ms since 1970; 0 = never; undefined when the key is absent. */
  expiresAt?(key: Buffer): number | undefined;
  /** Sets when `key` expires (0 = never); false when the key is absent. set() keeps it; delete() drops it. */
  setExpiresAt?(key: Buffer, at: number): boolean;
  /** How many keys have an expiry time (INFO's expires=). O(1). */
  expiringKeys?(): number;
  /**
   * Active expiry's sample: up to `limit` keys that have an expiry time, with
   * it, going on from where the last call stopped (round the whole table).
   */
  sampleExpiring?(limit: number): Array<[Buffer, number]>;
  /** The key's type tag: TYPE_STRING, TYPE_LIST, or 0 when absent. */
  typeOf?(key: Buffer): number;
  /** Gives an existing key a type tag (set() makes strings); false when absent. */
  setType?(key: Buffer, type: number): boolean;
  /**
   * A change beside the store (a list's elements, shared/store/lists.ts) as a
   * log record: `op key [arg]`. RecordingStore logs it, VersionedStore bumps
   * the key's version; a plain store has nothing to do.
   */
  journal?(op: string, key: Buffer, arg?: Buffer): void;
}

/** The optional methods, for a wrapper class to declare (`interface X extends StoreExtras {}` beside `class X`). */
export type StoreExtras = Pick<Store, 'expiresAt' | 'setExpiresAt' | 'expiringKeys' | 'sampleExpiring' | 'typeOf' | 'setType' | 'journal'>;

/**
 * The optional methods of `inner`, for a wrapper that passes them through
 * unchanged: a wrapper offers expiry and types exactly when its store does.
 */
export function passThrough(inner: Store): Partial<Store> {
  const out: Partial<Store> = {};
  if (inner.expiresAt) out.expiresAt = (key) => inner.expiresAt!(key);
  if (inner.setExpiresAt) out.setExpiresAt = (key, at) => inner.setExpiresAt!(key, at);
  if (inner.expiringKeys) out.expiringKeys = () => inner.expiringKeys!();
  if (inner.sampleExpiring) out.sampleExpiring = (limit) => inner.sampleExpiring!(limit);
  if (inner.typeOf) out.typeOf = (key) => inner.typeOf!(key);
  if (inner.setType) out.setType = (key, type) => inner.setType!(key, type);
  if (inner.journal || inner.setType) out.journal = (op, key, arg) => inner.journal?.(op, key, arg);
  return out;
}

/** Type tags (the GrowableStore record's byte 16). */
export const TYPE_NONE = 0;
export const TYPE_STRING = 1;
/** The key is a list; its elements live beside the store (shared/store/lists.ts). */
export const TYPE_LIST = 2;

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
