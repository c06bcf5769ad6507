import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// IDLE COMPACTION: a full garbage collection once a busy process falls idle,
// so that its resident memory comes back down to what it holds.
//
// Under a sustained load V8's young generation grows to two halves of 16 MB
// (and a worker process's old generation fills with the garbage of its log
// rewrites); V8 gives that memory back only after a full collection, which
// an idle process never runs by itself. So a server that served one
// redis-benchmark run keeps 30-40 MB it no longer uses, for good. Redis's
// RSS after the same load is its data plus a few MB.
//
// TWO COLLECTIONS, 1 S AND 8 S INTO THE QUIET. The first, a second after
// the last piece of work, frees what the load left behind (the old
// generation's garbage, a worker process's last rewrite). The young
// generation goes back only at a later one: V8 shrinks it at a full
// collection only if, over the 5 s or so before it, the process allocated
// under 1 MB a second (Heap::ReduceNewSpaceSize), and the first collection
// looks back into the load. The second runs once that window lies wholly in
// the quiet, with a few seconds to spare. Measured on Node 20, step 06's
// event-loop process after redis-benchmark's 60,000-key load: a collection
// 1 s into the quiet leaves the young generation at 2 x 16 MB; one some 5 s
// after that takes it to 2 x 0.5 MB. Left to itself, V8 gets there too,
// some 25 s after a load (its memory reducer), or never if a few
// allocations keep coming.
//
// LATER FOR A SERVER'S EVENT LOOP: 30 S AND 32 S. A collection is not free
// for the work that follows it: a shrunk young generation starts again at
// 2 x 0.5 MB and grows back only over dozens of scavenges (a 300,000-SET
// redis-benchmark run with -P 16 took 56 of them after the shrink, 26
// without), and a collection empties the old generation that the next
// load's garbage then fills again. With step 06's event-loop process
// collecting at 1 s and 8 s, redis-benchmark's SETs with -P 16 ran 5 to 12 %
// slower in interleaved runs 4 to 14 s apart (docs/store.md, "The idle
// collections and the next load"). So step 06's event loop passes
// `collectAtMs: [30_000, 32_000]`: nothing until 30 s of quiet, past the
// 25 s or so after which V8's own memory reducer would shrink the heap
// anyway (a server left alone that long pays the same); then two
// collections, as at 1 s and 8 s
// (one alone read 0.9 MB more at rest, in one comparison). The worker
// processes keep 1 s and 8 s: their 1 s collection is what drops a
// rewrite's buffers, and no client waits on their next batch.
//
// THE CONTRACT. `activity()` is a number that grows with the work done
// (commands answered, batches written: counters the process keeps anyway,
// so that the request path pays nothing for this). Every `lookMs` a timer
// reads it. Once it has stood still for each of `collectAtMs` (since it
// last moved), one full collection runs, `release()` first (what was kept
// for the next burst of work). So the collections of an idle period run
// once each, between t and t + lookMs into it; never during a load (the
// counter moves at every look); and not again until there is work again:
// a collection does not move the counter, so it cannot keep itself going.
// Before the first piece of work there is nothing to compact. The timer
// does not keep the process alive.
//
// The full collection is V8's `gc()`, which Node gives only with
// --expose-gc: setting that flag at run time, then making a new context,
// gives that context a `gc` (the flag is read when a context is made).

/** V8's full garbage collection, without starting Node with --expose-gc. */
export function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export interface IdleCompactionOptions {
  /** How long into an idle period each collection runs (default 1000 and 8000 ms: see above). */
  collectAtMs?: readonly number[];
  /** How often to look at the counter (default 1000 ms; 0: no timer, a test calls look() itself, each call counting as 1000 ms). */
  lookMs?: number;
  /** Called before each collection: drop what was kept for the next burst of work. */
  release?: () => void;
  /** The collection (default: V8's full one; a test passes a counter). */
  collect?: () => void;
}

export class IdleCompaction {
  /** Collections run so far (INFO shows the event loop's as idle_collections). */
  collections = 0;
  private seen: number; // the counter at the last look
  private stillFor = 0; // looks since it last moved
  private done: number; // collections of this idle period
  private readonly looksAt: number[]; // collectAtMs, in looks
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly collect: () => void;

  constructor(private readonly activity: () => number, private readonly options: IdleCompactionOptions = {}) {
    this.seen = activity();
    const lookMs = options.lookMs ?? 1000;
    this.looksAt = (options.collectAtMs ?? [1000, 8000]).map((ms) => Math.max(1, Math.round(ms / (lookMs || 1000))));
    this.done = this.looksAt.length; // no work yet: nothing to compact
    this.collect = options.collect ?? fullCollection();
    if (lookMs > 0) {
      this.timer = setInterval(() => this.look(), lookMs);
      this.timer.unref();
    }
  }

  /** One look at the counter (what the timer does every lookMs): whether it collected. */
  look(): boolean {
    const now = this.activity();
    if (now !== this.seen) {
      this.seen = now;
      this.stillFor = 0;
      this.done = 0;
      return false;
    }
    this.stillFor++;
    if (this.done >= this.looksAt.length || this.stillFor < this.looksAt[this.done]!) return false;
    this.done++;
    this.options.release?.();
    this.collect();
    this.collections++;
    return true;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
