// Latency figures: percentiles and a small text histogram.

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles by the nearest-rank method, from latencies in ms. */
export function summarize(latencies: number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
  };
}

/** The latency buckets of the text histogram and of the report page. */
export const BUCKET_LIMITS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, Infinity];

/** One line per latency bucket: `  < 0.5 ms   41.2% ########`. Empty buckets at the ends are left out. */
export function histogram(latencies: number[], barWidth = 40): string[] {
  const counts = BUCKET_LIMITS_MS.map(() => 0);
  for (const latency of latencies) counts[BUCKET_LIMITS_MS.findIndex((limit) => latency < limit)]!++;
  const first = counts.findIndex((c) => c > 0);
  const last = counts.findLastIndex((c) => c > 0);
  if (first < 0) return [];
  const most = Math.max(...counts);
  return counts.slice(first, last + 1).map((count, i) => {
    const limit = BUCKET_LIMITS_MS[first + i]!;
    const label = Number.isFinite(limit) ? `< ${limit} ms` : `>= ${BUCKET_LIMITS_MS[BUCKET_LIMITS_MS.length - 2]} ms`;
    const share = (100 * count) / latencies.length;
    return `${label.padStart(11)} ${share.toFixed(1).padStart(5)}% ${'#'.repeat(Math.round((count / most) * barWidth))}`;
  });
}

/**
 * The middle value (the mean of the two middle ones for an even count): half
 * the values are at most it, half at least. NaN for no values.
 */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `12,345` */
export function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
