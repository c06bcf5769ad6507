// Puts tasks back in sequence-number order.
//
// Connection threads number their writes while holding the store lock (see
// recording-store.ts), so the numbers are the order the writes were applied.
// Their messages, though, reach the main thread in whatever order the threads
// happened to post them. The sequencer holds back any task that arrives early
// and releases tasks strictly as 1, 2, 3, ...: after it, the queue and the
// log are in apply order. (TCP does the same with the segments of a stream.)
//
// It relies on every number being used: a thread that took a number must post
// its task. A missing number would hold back every later task (`holding`
// grows and INFO shows it), so the connection threads are never terminated in
// the middle of a command.

export class Sequencer<T extends { seq: number }> {
  private next: number;
  private readonly early = new Map<number, T>();

  /**
   * @param first the first sequence number to expect
   * @param release called with each task, in sequence order
   */
  constructor(
    first: number,
    private readonly release: (task: T) => void,
  ) {
    this.next = first;
  }

  accept(task: T): void {
    if (task.seq !== this.next) {
      if (task.seq < this.next || this.early.has(task.seq)) {
        throw new Error(`sequencer: task ${task.seq} was already released or is held twice`);
      }
      this.early.set(task.seq, task); // early: wait for the ones before it
      return;
    }
    this.release(task);
    this.next++;
    // Its arrival may complete a run of early tasks. (Usually none waits: no
    // hash lookup then, as this runs for every write.)
    if (this.early.size === 0) return;
    for (let held = this.early.get(this.next); held !== undefined; held = this.early.get(this.next)) {
      this.early.delete(this.next);
      this.release(held);
      this.next++;
    }
  }

  /** Tasks that arrived early and wait for a smaller number. */
  get holding(): number {
    return this.early.size;
  }

  /** The sequence number the sequencer waits for. */
  get expected(): number {
    return this.next;
  }
}
