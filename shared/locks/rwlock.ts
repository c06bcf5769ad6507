import { rejectPromise } from './mutex.ts';

// A read-write lock for worker threads, on Atomics over five Int32 words of a
// SharedArrayBuffer. Many readers may hold it together; a writer holds it
// alone. Writers do not starve: once a writer is waiting, new readers wait
// too, so the readers inside drain out and the writer gets in. (The price:
// a steady stream of writers can hold readers off; that is the usual choice
// for a store, where writes are rarer and must not be postponed forever.)
//
// The five words, from `index`:
//
//   STATE            bits 0-29: readers inside; bit 30: a writer is inside
//   WRITERS_WAITING  writers that called writeLock() and are not inside yet
//   READER_SEQ       bumped to wake sleeping readers
//   WRITER_SEQ       bumped to wake sleeping writers
//   READERS_WAITING  readers about to sleep, or asleep
//
// How sleeping works without lost wake-ups: a thread says it waits (the
// WAITING word), reads a SEQ word, checks whether it may enter, then sleeps
// with Atomics.wait(SEQ, valueRead). Whoever makes entry possible changes the
// state first, then looks at WAITING and, if anyone waits, bumps SEQ and
// notifies. If that bump came after our read of SEQ, Atomics.wait returns at
// once; if it looked at WAITING before we said we wait, we see its new state.
// The WAITING words spare the usual case - nobody asleep - a notify per unlock
// (measured: a tenth of the lock's cost on step 06's event loop).
//
// Memory model: as with the mutex, the Atomics operations here are the
// synchronization points; the data the lock guards needs no Atomics.
// Not reentrant: a reader that asks for the read lock again while a writer
// waits will wait for that writer, which waits for it (deadlock).

const STATE = 0;
const WRITERS_WAITING = 1;
const READER_SEQ = 2;
const WRITER_SEQ = 3;
const READERS_WAITING = 4;

const WRITER = 1 << 30;
const READERS = WRITER - 1;

export class RwLock {
  /** How many Int32 words a read-write lock occupies. */
  static readonly WORDS = 5;

  /** A read-write lock in a fresh SharedArrayBuffer of its own. */
  static create(): RwLock {
    return new RwLock(new Int32Array(new SharedArrayBuffer(4 * RwLock.WORDS)));
  }

  /** A lock over `memory[index .. index+4]`, which must start all 0. */
  constructor(
    readonly memory: Int32Array,
    readonly index = 0,
  ) {
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('RwLock: memory must be a view of a SharedArrayBuffer');
    }
    if (!Number.isInteger(index) || index < 0 || index + RwLock.WORDS > memory.length) {
      throw new RangeError(`RwLock: words ${index}..${index + RwLock.WORDS - 1} are outside the Int32Array`);
    }
  }

  readLock(): void {
    const m = this.memory;
    const i = this.index;
    for (;;) {
      if (this.tryReadLock()) return;
      Atomics.add(m, i + READERS_WAITING, 1);
      const seq = Atomics.load(m, i + READER_SEQ);
      // Look again after saying we wait: an unlock before that did not wake us.
      if ((Atomics.load(m, i + STATE) & WRITER) !== 0 || Atomics.load(m, i + WRITERS_WAITING) !== 0) {
        Atomics.wait(m, i + READER_SEQ, seq);
      }
      Atomics.sub(m, i + READERS_WAITING, 1);
    }
  }

  /** Takes a read lock if that is possible without waiting. */
  tryReadLock(): boolean {
    const m = this.memory;
    const i = this.index;
    for (;;) {
      const s = Atomics.load(m, i + STATE);
      // Enter only if no writer is inside AND none is waiting (writer preference).
      if ((s & WRITER) !== 0 || Atomics.load(m, i + WRITERS_WAITING) !== 0) return false;
      if (Atomics.compareExchange(m, i + STATE, s, s + 1) === s) return true;
      // Another reader got in (or out) first: look again.
    }
  }

  readUnlock(): void {
    const m = this.memory;
    const i = this.index;
    const before = Atomics.sub(m, i + STATE, 1);
    if ((before & READERS) === 0) {
      Atomics.add(m, i + STATE, 1);
      throw new Error('RwLock: readUnlock() without a read lock');
    }
    // The last reader out lets a waiting writer in.
    if (before === 1 && Atomics.load(m, i + WRITERS_WAITING) > 0) wake(m, i + WRITER_SEQ);
  }

  writeLock(): void {
    if (this.tryWriteLock()) return; // the usual case: nobody holds it
    const m = this.memory;
    const i = this.index;
    // Announce ourselves first: from now on no new reader enters.
    Atomics.add(m, i + WRITERS_WAITING, 1);
    for (;;) {
      const seq = Atomics.load(m, i + WRITER_SEQ);
      if (Atomics.compareExchange(m, i + STATE, 0, WRITER) === 0) break;
      Atomics.wait(m, i + WRITER_SEQ, seq);
    }
    Atomics.sub(m, i + WRITERS_WAITING, 1);
  }

  /** Takes the write lock if nobody holds the lock at all. */
  tryWriteLock(): boolean {
    return Atomics.compareExchange(this.memory, this.index + STATE, 0, WRITER) === 0;
  }

  writeUnlock(): void {
    const m = this.memory;
    const i = this.index;
    if (Atomics.compareExchange(m, i + STATE, WRITER, 0) !== WRITER) {
      throw new Error('RwLock: writeUnlock() without the write lock');
    }
    // Writers first (that is the preference); when none waits, the readers.
    if (Atomics.load(m, i + WRITERS_WAITING) > 0) wake(m, i + WRITER_SEQ);
    else if (Atomics.load(m, i + READERS_WAITING) > 0) wake(m, i + READER_SEQ);
  }

  /** Runs synchronous `fn` under a read lock. */
  withRead<T>(fn: () => T): T {
    this.readLock();
    let result: T;
    try {
      result = fn();
    } finally {
      this.readUnlock();
    }
    rejectPromise(result, 'withRead');
    return result;
  }

  /** Runs synchronous `fn` under the write lock. */
  withWrite<T>(fn: () => T): T {
    this.writeLock();
    let result: T;
    try {
      result = fn();
    } finally {
      this.writeUnlock();
    }
    rejectPromise(result, 'withWrite');
    return result;
  }

  /** Snapshots for tests and INFO. */
  readers(): number {
    return Atomics.load(this.memory, this.index + STATE) & READERS;
  }
  writerInside(): boolean {
    return (Atomics.load(this.memory, this.index + STATE) & WRITER) !== 0;
  }
  writersWaiting(): number {
    return Atomics.load(this.memory, this.index + WRITERS_WAITING);
  }
  readersWaiting(): number {
    return Atomics.load(this.memory, this.index + READERS_WAITING);
  }
}

function wake(m: Int32Array, seqIndex: number): void {
  Atomics.add(m, seqIndex, 1);
  Atomics.notify(m, seqIndex);
}
