import { TICKS_PER_SECOND, cpuTicks, memoryBytes } from '../../shared/os/proc.ts';

// The live figures INFO shows: operations per command, latency percentiles,
// and what /proc says about the worker processes. Counting must cost next to
// nothing on the hot path: one array increment per request.

/**
 * Latency histogram: bucket b counts requests that took about 2^(b/4)
 * microseconds (four buckets per power of two, so a percentile is right
 * within about 19%). Fixed memory, O(1) to record.
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(4 * 32);
  private total = 0;
  private maxUs = 0;

  /** Records `count` requests that each took `us` microseconds. */
  record(us: number, count = 1): void {
    const bucket = us <= 1 ? 0 : Math.min(this.counts.length - 1, Math.ceil(4 * Math.log2(us)));
    this.counts[bucket]! += count;
    this.total += count;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The upper bound of the bucket holding the q-th quantile, in microseconds. */
  quantileUs(q: number): number {
    if (this.total === 0) return 0;
    const rank = q * this.total;
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(this.maxUs, 2 ** (b / 4));
    }
    return this.maxUs;
  }

  summary(): Record<string, string> {
    const ms = (us: number) => (us / 1000).toFixed(3);
    return {
      latency_p50_ms: ms(this.quantileUs(0.5)),
      latency_p90_ms: ms(this.quantileUs(0.9)),
      latency_p99_ms: ms(this.quantileUs(0.99)),
      latency_p999_ms: ms(this.quantileUs(0.999)),
      latency_max_ms: ms(this.maxUs),
    };
  }
}

/** Calls per command name: `calls_get:1200`. */
export class CommandCounts {
  private readonly counts = new Map<string, number>();
  /** Every command counted: INFO's total_commands_processed. */
  total = 0;

  count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    this.total++;
  }

  /** Calls of one command so far. */
  calls(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  summary(): Record<string, number> {
    const sorted = [...this.counts].sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(sorted.map(([name, n]) => [`calls_${name.toLowerCase()}`, n]));
  }
}

/**
 * Redis's instantaneous_ops_per_sec: a sample of a running total every
 * 100 ms, the rate over the last 16 samples (1.6 s), as Redis's
 * trackInstantaneousMetric. The timer does not keep the process alive.
 */
export class RateMeter {
  private readonly samples: Array<{ at: number; total: number }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly read: () => number, intervalMs = 100, private readonly keep = 16) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    this.samples.push({ at: performance.now(), total: this.read() });
    if (this.samples.length > this.keep + 1) this.samples.shift();
  }

  /** Per second, over the samples kept; 0 before the second sample. */
  perSecond(): number {
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? Math.round((last.total - first.total) / seconds) : 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** CPU seconds and resident memory of a process, from /proc; null if it is gone, or without /proc (not Linux). */
export function processFigures(pid: number): { cpuSeconds: number; rssMb: number } | null {
  const ticks = cpuTicks(pid);
  if (ticks === null) return null;
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: (memoryBytes(pid, 'VmRSS') ?? 0) / 1048576 };
}

/** The store's memory figures that INFO shows. */
export interface MemoryReport {
  usedMemory(): number;
  peakMemory(): number;
  reservedMemory(): number;
  readonly maxMemory: number;
}

/**
 * INFO's memory fields, under Redis's names where Redis has one:
 * used_memory (what the data takes), its peak, maxmemory (0 = no limit),
 * each with a _human twin, and mem_fragmentation_ratio (resident memory of
 * the whole process over what it has allocated: the store's used_memory, V8's
 * heap and the memory outside it; see below). Ours:
 * store_reserved_memory (pages carved for the size classes, whether their
 * chunks are in use or free) and store_fragmentation_ratio (reserved / used:
 * what the size classes cost).
 */
export function memoryFigures(store: MemoryReport, rssBytes: number | undefined): Record<string, string | number> {
  const used = store.usedMemory();
  const peak = store.peakMemory();
  const reserved = store.reservedMemory();
  const heap = heapFigures();
  // Redis divides RSS by used_memory, which counts every allocation of its
  // process. Ours counts the store alone, and a Node process is 80-110 MB
  // before any data: RSS over what this process has allocated (the store,
  // V8's heap, the buffers outside it) is the figure that means the same.
  const allocated = used + heap.js_heap_used + heap.js_external;
  return {
    used_memory: used,
    used_memory_human: humanBytes(used),
    used_memory_peak: peak,
    used_memory_peak_human: humanBytes(peak),
    maxmemory: store.maxMemory,
    maxmemory_human: humanBytes(store.maxMemory),
    // Without /proc (macOS, Windows) the resident memory is unknown: n/a.
    mem_fragmentation_ratio: rssBytes === undefined ? 'n/a' : (rssBytes / allocated).toFixed(2),
    used_memory_rss: rssBytes ?? 'n/a',
    used_memory_rss_human: rssBytes === undefined ? 'n/a' : humanBytes(rssBytes),
    store_reserved_memory: reserved,
    store_fragmentation_ratio: (reserved / used).toFixed(2),
    ...heap,
  };
}

/** The JavaScript heap of this thread (the event loop's), from process.memoryUsage(). */
function heapFigures(): { js_heap_total: number; js_heap_used: number; js_external: number; js_array_buffers: number } {
  const { heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { js_heap_total: heapTotal, js_heap_used: heapUsed, js_external: external, js_array_buffers: arrayBuffers };
}

/** Bytes as Redis's INFO writes them: 512B, 1.50K, 100.00M, 2.00G (powers of 1024). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`;
}
