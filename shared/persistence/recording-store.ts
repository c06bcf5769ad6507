import { passThrough, type Store, type StoreExtras } from '../store/store.ts';
import { commandRecord, delRecord, setTask, type PersistTask } from './task.ts';
import { hashKey } from '../store/key-hash.ts';

// A Store that passes every call to the real store and, for each write that
// changed something, records a persistence task. The commands do not know it
// is there: in steps 04 and 05 each connection thread wraps the shared store
// in one of these (steps/04-ipc-queue/thread.ts), runs the commands exactly
// as step 03 does, then collects `takeTasks()` and sends them to the main
// thread with the replies.
//
// THE SEQUENCE NUMBER. Several threads write to the store. The order in which
// their messages reach the main thread is not the order in which they took the
// lock: thread A may apply `SET k 1`, release the lock, and be descheduled
// before it posts its message, while thread B applies `SET k 2` and posts
// first. A log written in message order would say k=1; memory says k=2.
// So each write takes a number from a counter shared by all threads *while it
// still holds the store lock* (the caller guarantees every Store call runs
// under it). Lock order is apply order, so the numbers are apply order, and
// the main thread can restore that order before anything reaches the log.
//
// EXPIRY AND TYPES (issue 13). An expiry time is logged as an absolute time,
// `PEXPIREAT <seq> <key> <ms>` (0: PERSIST), so a replay a day later expires
// the key at the right moment, not a day late; a type tag as
// `TYPE <seq> <key> <tag>`; a list's elements as the journal's records
// (`RPUSH <seq> <key> <element>`, `LPOP <seq> <key>`...). An expired key is
// reclaimed through delete(): it reaches the log (and a replica) as DEL, as
// in Redis.

const NO_TASKS: readonly PersistTask[] = Object.freeze([]);

export interface RecordingStore extends StoreExtras {}
export class RecordingStore implements Store {
  private tasks: PersistTask[] = [];

  /**
   * @param inner the real store (the shared hash table)
   * @param sequence a counter shared by every thread (`newSequence()`): word 0
   *   holds the next sequence number
   */
  constructor(
    private readonly inner: Store,
    private readonly sequence: BigInt64Array,
  ) {
    Object.assign(this, passThrough(inner));
    if (inner.setExpiresAt) {
      this.setExpiresAt = (key, at) => {
        if (!inner.setExpiresAt!(key, at)) return false;
        this.record(['PEXPIREAT', key, String(at)]);
        return true;
      };
    }
    if (inner.setType) {
      this.setType = (key, type) => {
        if (!inner.setType!(key, type)) return false;
        this.record(['TYPE', key, String(type)]);
        return true;
      };
      this.journal = (op, key, arg) => {
        inner.journal?.(op, key, arg);
        this.record(arg === undefined ? [op, key] : [op, key, arg]);
      };
    }
  }

  private record([op, key, arg]: [string, Buffer, (string | Buffer)?]): void {
    const seq = this.nextSeq();
    this.tasks.push({ seq, keyHash: hashKey(key), record: commandRecord(seq, op, key, arg) });
  }

  get(key: Buffer): Buffer | undefined {
    return this.inner.get(key);
  }

  set(key: Buffer, value: Buffer): void {
    this.inner.set(key, value); // throws on a limit: then nothing is recorded
    const seq = this.nextSeq();
    this.tasks.push(setTask(seq, hashKey(key), key, value)); // a big value referred to, not copied
  }

  delete(key: Buffer): boolean {
    if (!this.inner.delete(key)) return false; // nothing changed, nothing to log
    const seq = this.nextSeq();
    this.tasks.push({ seq, keyHash: hashKey(key), record: delRecord(seq, key) });
    return true;
  }

  size(): number {
    return this.inner.size();
  }

  entries(): Array<[Buffer, Buffer]> {
    return this.inner.entries();
  }

  /** The tasks recorded since the last call, in the order they were applied. */
  takeTasks(): readonly PersistTask[] {
    if (this.tasks.length === 0) return NO_TASKS; // asked after every read too: allocate nothing
    const tasks = this.tasks;
    this.tasks = [];
    return tasks;
  }

  private nextSeq(): number {
    // Atomics.add is not what orders the writes (the store lock does); it
    // just makes the counter itself safe to share.
    return Number(Atomics.add(this.sequence, 0, 1n));
  }
}

/** A sequence counter in shared memory, starting at `first`; post its buffer to each thread. */
export function newSequence(first: number): BigInt64Array {
  const counter = new BigInt64Array(new SharedArrayBuffer(8));
  counter[0] = BigInt(first);
  return counter;
}
