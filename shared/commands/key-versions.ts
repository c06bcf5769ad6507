import { isMainThread } from 'node:worker_threads';
import { hashKey } from '../store/key-hash.ts';
import { passThrough, type Store, type StoreExtras } from '../store/store.ts';

// What WATCH needs: "has this key been written since I looked?"
//
// THE DESIGN. A table of version counters in shared memory, one Int32 word
// per bucket of keys (a key's bucket: its FNV-1a hash modulo the table size,
// 65,536 buckets, 256 KB). Every write to a key - a set() or a delete() that
// removed something, through whichever command - adds one to its bucket's
// counter (VersionedStore below wraps the store the commands see, the way
// RecordingStore does for persistence). WATCH remembers the counters of its
// keys' buckets; EXEC, holding the store's exclusive lock, compares them with
// the counters now: if one moved, a watched key may have been written, and
// the transaction is not run (a null reply).
//
// Why not a version per key: the store (shared/store) has no room for one,
// and is being rewritten; a separate table keeps WATCH independent of it. And
// why not one global counter: every write anywhere would abort every
// transaction. Buckets sit in between.
//
// WHAT IT COSTS IN CORRECTNESS: nothing is missed, but a write to another key
// of the same bucket aborts the transaction too (a false conflict). Redis
// itself aborts on any write to a watched key, even one that stores the same
// value, and a client that uses WATCH must retry anyway; a false conflict is
// one more retry. With 65,536 buckets and a transaction watching one key, a
// write to a random other key hits its bucket with probability 1/65,536.
// A counter wraps after 2^32 writes to its bucket; a transaction that waits
// for exactly that many writes between WATCH and EXEC would miss them.
//
// THREADS. The table is a SharedArrayBuffer: the main thread makes one
// (sharedKeyVersions()) and serveOnThread / the pool pass it to their threads.
// A bump is Atomics.add, so even step 02's unlocked threads never lose one.
// It happens after the store was changed: a WATCH that reads the old counter
// may still see the new value, and EXEC will then abort (safe). A WATCH that
// reads the new counter saw the write finished.

export const VERSION_BUCKETS = 65_536;

export class KeyVersions {
  readonly counters: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.counters = new Int32Array(buffer);
  }

  static create(buckets = VERSION_BUCKETS): KeyVersions {
    return new KeyVersions(new SharedArrayBuffer(4 * buckets));
  }

  /** The bucket a key's version lives in. */
  bucketOf(key: Uint8Array): number {
    return hashKey(key) % this.counters.length;
  }

  /** The version of a bucket now. */
  version(bucket: number): number {
    return Atomics.load(this.counters, bucket);
  }

  /** Records that `key` was written. */
  touch(key: Uint8Array): void {
    Atomics.add(this.counters, this.bucketOf(key), 1);
  }
}

let mainTable: KeyVersions | null = null;

/**
 * The process's table, made on first use. Only the main thread may make it;
 * threads receive its buffer (workerData) and wrap it in `new KeyVersions()`.
 */
export function sharedKeyVersions(): KeyVersions {
  if (!isMainThread) throw new Error('sharedKeyVersions() belongs to the main thread; a thread gets the buffer from it');
  mainTable ??= KeyVersions.create();
  return mainTable;
}

/**
 * A Store that passes every call on and, after each write, bumps the key's
 * version. Commands never see it: they write to the store as always.
 */
// Expiry and types pass through (passThrough); those that change a key bump its version.
export interface VersionedStore extends StoreExtras {}
export class VersionedStore implements Store {
  constructor(
    private readonly inner: Store,
    readonly versions: KeyVersions,
  ) {
    Object.assign(this, passThrough(inner));
    if (inner.setExpiresAt) {
      this.setExpiresAt = (key, at) => inner.setExpiresAt!(key, at) && (versions.touch(key), true);
    }
    if (inner.setType) this.setType = (key, type) => inner.setType!(key, type) && (versions.touch(key), true);
    if (this.journal) {
      this.journal = (op, key, arg) => {
        inner.journal?.(op, key, arg);
        versions.touch(key);
      };
    }
  }

  get(key: Buffer): Buffer | undefined {
    return this.inner.get(key);
  }

  set(key: Buffer, value: Buffer): void {
    this.inner.set(key, value); // throws on a limit: then nothing changed
    this.versions.touch(key);
  }

  delete(key: Buffer): boolean {
    if (!this.inner.delete(key)) return false;
    this.versions.touch(key);
    return true;
  }

  size(): number {
    return this.inner.size();
  }

  entries(): Array<[Buffer, Buffer]> {
    return this.inner.entries();
  }
}
