import { readFileSync } from 'node:fs';

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

  count(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  summary(): Record<string, number> {
    const sorted = [...this.counts].sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(sorted.map(([name, n]) => [`calls_${name.toLowerCase()}`, n]));
  }
}

/** CPU seconds and resident memory of a process, from /proc (Linux); null if it is gone. */
export function processFigures(pid: number): { cpuSeconds: number; rssMb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime: fields 14 and 15 of the line, in 1/100 s.
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return { cpuSeconds, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return null;
  }
}
