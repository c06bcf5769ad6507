// A bounded FIFO queue with backpressure, for the main thread.
//
// The seed used an unbounded multiprocessing.Queue: when writes arrive faster
// than the workers persist them, the backlog - and memory - grows without
// limit, and nobody notices until the machine swaps. Here the queue has a
// capacity, counted in items. A producer that finds it full is not refused:
// it waits (its `put` promise stays pending) until the consumer has finished
// enough items. The server makes the waiting visible to the client simply by
// not answering yet, so a flood of writes slows down to the workers' pace
// instead of piling up.
//
// An item holds its slot from `put` until the consumer calls `done`, not just
// until `take`: items on their way to a worker, or being written by it, still
// count. Otherwise the queue could look empty while any amount of data sat in
// the IPC channel's buffers.
//
// Producers are admitted strictly in arrival order (FIFO), so the order of the
// items is the order of the `put` calls, waiting or not.

interface Waiter<T> {
  items: T[];
  admit: () => void;
}

export class BoundedQueue<T> {
  private items: T[] = [];
  private head = 0; // items[head..] are ready to take
  private inFlight = 0; // taken, not yet done
  private readonly waiters: Array<Waiter<T>> = [];
  private readonly idleCallbacks: Array<() => void> = [];

  /**
   * @param capacity the most items admitted and not yet done
   * @param onReady called (synchronously) whenever items become ready to take
   */
  constructor(
    readonly capacity: number,
    private readonly onReady: () => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be an integer >= 1');
  }

  /** Items admitted and not yet done: waiting to be taken, or taken and in progress. */
  get depth(): number {
    return this.items.length - this.head + this.inFlight;
  }

  /** Items ready to take. */
  get ready(): number {
    return this.items.length - this.head;
  }

  /** Items whose producers are waiting for room (not yet admitted). */
  get blocked(): number {
    let count = 0;
    for (const waiter of this.waiters) count += waiter.items.length;
    return count;
  }

  /**
   * Adds items as one group; resolves once they are admitted (at once when
   * there is room). A group larger than the whole capacity is admitted when
   * the queue is empty, so it cannot wait forever.
   */
  put(items: T[]): Promise<void> {
    if (this.tryPut(items)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ items, admit: resolve }));
  }

  /** Admits the group at once if there is room (and nobody waits before it); false otherwise. */
  tryPut(items: T[]): boolean {
    if (items.length === 0) return true;
    if (this.waiters.length > 0 || !this.fits(items.length)) return false;
    this.admit(items);
    return true;
  }

  /** Removes up to `max` items, oldest first. They keep their slots until `done`. */
  take(max: number): T[] {
    const end = Math.min(this.items.length, this.head + max);
    const taken = this.items.slice(this.head, end);
    this.head = end;
    this.inFlight += taken.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head); // drop the consumed front now and then
      this.head = 0;
    }
    return taken;
  }

  /** The consumer finished `count` taken items: their slots are free again. */
  done(count: number): void {
    if (count > this.inFlight) throw new Error(`done(${count}) but only ${this.inFlight} items are in flight`);
    this.inFlight -= count;
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.items.length)) {
      const waiter = this.waiters.shift()!;
      this.admit(waiter.items);
      waiter.admit();
    }
    if (this.depth === 0 && this.waiters.length === 0) {
      for (const callback of this.idleCallbacks.splice(0)) callback();
    }
  }

  /** Resolves when every item put so far is done (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.depth === 0 && this.waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleCallbacks.push(resolve));
  }

  private fits(count: number): boolean {
    return this.depth + count <= this.capacity || this.depth === 0;
  }

  private admit(items: T[]): void {
    for (const item of items) this.items.push(item);
    this.onReady();
  }
}
