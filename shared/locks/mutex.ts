// A mutex for worker threads, built on Atomics over one Int32 in a
// SharedArrayBuffer: the three-state futex design from Ulrich Drepper,
// "Futexes are tricky" (2011), mutex #3.
//
// The lock word holds one of three states:
//
//   0  UNLOCKED               nobody holds the lock
//   1  LOCKED                 someone holds it, and nobody is asleep waiting
//   2  LOCKED_WITH_WAITERS    someone holds it, and threads may be asleep in
//                             Atomics.wait: unlock() must wake one of them
//
// Why three states and not two: with only 0/1, unlock() would have to call
// Atomics.notify every time, just in case someone sleeps. The third state lets
// the common case (no contention) lock and unlock with one atomic instruction
// each and never enter the kernel.
//
// Memory model: the Atomics operations on the lock word are the
// synchronization points. Everything a thread writes to shared memory before
// unlock() - even with plain, non-atomic writes - is visible to the next thread
// after its lock() returns. That is why the data a lock guards needs no Atomics.
//
// Not reentrant: a thread that calls lock() twice waits for itself forever.
// Atomics.wait blocks the whole thread: on the main thread, no event, timer
// or postMessage is handled while it waits.

const UNLOCKED = 0;
const LOCKED = 1;
const LOCKED_WITH_WAITERS = 2;

export class Mutex {
  /** How many Int32 words a mutex occupies. */
  static readonly WORDS = 1;

  /** A mutex in a fresh SharedArrayBuffer of its own. */
  static create(): Mutex {
    return new Mutex(new Int32Array(new SharedArrayBuffer(4 * Mutex.WORDS)));
  }

  /**
   * A mutex whose state is `memory[index]`. Every thread that builds a Mutex
   * over the same SharedArrayBuffer word shares the same lock; the word must
   * start at 0 (unlocked).
   */
  constructor(
    readonly memory: Int32Array,
    readonly index = 0,
  ) {
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('Mutex: memory must be a view of a SharedArrayBuffer');
    }
    if (!Number.isInteger(index) || index < 0 || index >= memory.length) {
      throw new RangeError(`Mutex: index ${index} is outside the Int32Array`);
    }
  }

  lock(): void {
    const m = this.memory;
    const i = this.index;
    // Fast path: 0 -> 1, nobody else was interested.
    let c = Atomics.compareExchange(m, i, UNLOCKED, LOCKED);
    if (c === UNLOCKED) return;
    // Slow path: announce that there is a waiter (state 2), then sleep until
    // the word changes. exchange() both marks "waiters" and tells us whether
    // the lock was released meanwhile (old value 0: we now own it, in state 2,
    // which at worst costs one unneeded notify later).
    if (c !== LOCKED_WITH_WAITERS) c = Atomics.exchange(m, i, LOCKED_WITH_WAITERS);
    while (c !== UNLOCKED) {
      // Sleeps only if the word is still 2, so a wake-up cannot be lost.
      Atomics.wait(m, i, LOCKED_WITH_WAITERS);
      c = Atomics.exchange(m, i, LOCKED_WITH_WAITERS);
    }
  }

  /** Takes the lock if it is free, without waiting. True when taken. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.memory, this.index, UNLOCKED, LOCKED) === UNLOCKED;
  }

  unlock(): void {
    const m = this.memory;
    const i = this.index;
    // 1 -> 0 is the fast path. If the old value was 2, somebody may be
    // asleep: release fully and wake exactly one waiter.
    const old = Atomics.sub(m, i, 1);
    if (old === LOCKED) return;
    Atomics.store(m, i, UNLOCKED);
    if (old === UNLOCKED) throw new Error('Mutex: unlock() of a mutex that is not locked');
    Atomics.notify(m, i, 1);
  }

  /**
   * Runs `fn` holding the lock, and releases it even if `fn` throws.
   * `fn` must be synchronous: the lock cannot be held across an `await`.
   */
  withLock<T>(fn: () => T): T {
    this.lock();
    let result: T;
    try {
      result = fn();
    } finally {
      this.unlock();
    }
    rejectPromise(result, 'withLock');
    return result;
  }

  /** True while some thread holds the lock (a snapshot, for tests and INFO). */
  isLocked(): boolean {
    return Atomics.load(this.memory, this.index) !== UNLOCKED;
  }
}

/** Fails loudly when an async function was given where a critical section must be synchronous. */
export function rejectPromise(result: unknown, where: string): void {
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    throw new TypeError(
      `${where}: the function returned a Promise; the lock was released at its first await. ` +
        'Locks on Atomics guard synchronous code only.',
    );
  }
}
