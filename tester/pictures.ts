import { describeOperation, describeOutcome, type Operation, type Outcome, type TimedOperation } from './operations.ts';
import type { Violation } from './checker/linearizability.ts';

// What the report page draws, as plain data (it also goes into --json): the
// timeline of a key that is not linearizable, the latency histogram and the
// throughput of the load scenario, and the CPU and memory of the server's
// processes over time. The scenarios fill these in; html/page.ts draws them.
//
// A timeline may carry the faults made while its operations ran (a link
// blackholed, a primary SIGKILLed: the replication scenario), drawn as bands
// behind the boxes.

/** One operation of a timeline: a box from its call to its reply. */
export interface TimelineOperation {
  client: number;
  /** `PUT k "300008"`, in our command names, or as the dialect sent it (`SET k "300008" XX`). */
  command: string;
  /** `OK`, `(nil)`, `3`, `no reply (...)`. */
  reply: string;
  /** Decides the colour of the box. */
  outcome: Outcome['kind'];
  /** ms from the scenario's start. */
  sentAt: number;
  /** ms from the scenario's start; null when no reply came. */
  answeredAt: number | null;
}

/** The history of one key around the operation the checker could not place. */
export interface KeyTimeline {
  key: string;
  /** The checker's sentence: what could not be placed, and why. */
  sentence: string;
  /** The operations drawn, in the order they were sent. */
  operations: TimelineOperation[];
  /** The longest linearization the checker found, as indexes into `operations` (the part drawn). */
  linearization: number[];
  /** How many operations of that linearization come before the part drawn. */
  linearizedBefore: number;
  /** The operation that cannot be placed (an index into `operations`). */
  stuck: number;
  /** The key's value after the linearization (null: absent). */
  stateAfter: string | null;
  /** Operations on the key in all, drawn or not. */
  total: number;
  /** Faults made while they ran, drawn as bands behind the boxes. */
  faults?: FaultBand[];
}

/** A fault, from when it was made to when it ended (ms, as the operations; null: still on at the end; equal: one moment). */
export interface FaultBand {
  from: number;
  to: number | null;
  /** `link blackholed`, `primary SIGKILLed`. */
  label: string;
  /** What ended it (`SIGCONT`, `the link healed`), when it ended: the page says `LABEL until ENDED BY`. */
  endedBy?: string;
}

/** Counts per latency bucket: `counts[i]` latencies below `limitsMs[i]` (and not below the one before); the last limit is Infinity (null in --json). */
export interface LatencyHistogram {
  limitsMs: number[];
  counts: number[];
}

/** Operations answered in each interval of the run. */
export interface Throughput {
  intervalMs: number;
  counts: number[];
}

/** CPU and memory of each process of the server, sampled while a scenario ran. */
export interface ProcessSeries {
  /** ms from the start of sampling, one per sample. */
  times: number[];
  processes: Array<{
    pid: number;
    /** What it runs: 'server' for the process the tester started, 'log worker process', ... (proc-stats.ts processRole). */
    role: string;
    /** Per sample: % of one core since the previous sample (null before it existed or after it ended). */
    cpuPercent: Array<number | null>;
    /** Per sample: resident memory in MB (null when not alive). */
    rssMb: Array<number | null>;
  }>;
}

/** What a scenario adds to the report page. */
export interface Pictures {
  latency?: LatencyHistogram;
  throughput?: Throughput;
  processes?: ProcessSeries;
}

const MAX_DRAWN = 1000;

/**
 * The data of one key's timeline: every operation on the key, as Porcupine
 * draws it; past 1,000 operations, the 1,000 sent closest in time to the one
 * that cannot be placed (which is always drawn). `describe` names each
 * operation (a dialect's describe: the commands as sent).
 */
export function keyTimeline(key: string, violation: Violation, origin: number, sentence: string,
  describe: (op: Operation) => string = describeOperation): KeyTimeline {
  const { stuck, explained, history } = violation;
  const distance = (h: TimedOperation) => (h === stuck ? -1 : Math.abs(h.invokedAt - stuck.invokedAt));
  const drawn = [...history].sort((a, b) => distance(a) - distance(b)).slice(0, MAX_DRAWN)
    .sort((a, b) => a.invokedAt - b.invokedAt);
  const index = new Map(drawn.map((h, i) => [h, i]));
  // The drawn part of the linearization: its longest suffix whose operations are all drawn.
  let first = explained.length;
  while (first > 0 && index.has(explained[first - 1]!)) first--;
  return {
    key,
    sentence,
    operations: drawn.map((h) => ({
      client: h.client,
      command: describe(h.op),
      reply: describeOutcome(h.outcome),
      outcome: h.outcome.kind,
      sentAt: h.invokedAt - origin,
      answeredAt: Number.isFinite(h.returnedAt) ? h.returnedAt - origin : null,
    })),
    linearization: explained.slice(first).map((h) => index.get(h)!),
    linearizedBefore: first,
    stuck: index.get(stuck)!,
    stateAfter: violation.stateAfterExplained,
    total: history.length,
  };
}

/** Latency counts in the buckets of `limitsMs` (the last limit is usually Infinity). */
export function latencyHistogram(latencies: number[], limitsMs: number[]): LatencyHistogram {
  const counts = limitsMs.map(() => 0);
  for (const latency of latencies) counts[limitsMs.findIndex((limit) => latency < limit)]!++;
  return { limitsMs, counts };
}

/** Counts events (ms from the start) into intervals; a sliver left at the end goes into the last one. */
export function throughput(answeredAt: ArrayLike<number>, intervalMs: number, durationMs: number): Throughput {
  const counts = new Array<number>(Math.max(1, Math.round(durationMs / intervalMs))).fill(0);
  for (let i = 0; i < answeredAt.length; i++) {
    counts[Math.min(counts.length - 1, Math.floor(answeredAt[i]! / intervalMs))]!++;
  }
  return { intervalMs, counts };
}

const SPARKS = '▁▂▃▄▅▆▇█';

/**
 * The throughput as one line of at most `width` block characters (intervals
 * merged to fit), each from ▁ (none) to █ (the highest rate), so that a dip
 * looks as deep as it is.
 */
export function sparkline(series: Throughput, width = 60): { line: string; intervalMs: number; min: number; max: number } {
  const merge = Math.ceil(series.counts.length / width);
  const merged: number[] = [];
  for (let i = 0; i < series.counts.length; i += merge) {
    const part = series.counts.slice(i, i + merge);
    // A short last part would look like a drop: scale it to a full interval.
    merged.push((part.reduce((a, b) => a + b, 0) * merge) / part.length);
  }
  const intervalMs = series.intervalMs * merge;
  const perSecond = merged.map((count) => (count * 1000) / intervalMs);
  const min = Math.min(...perSecond);
  const max = Math.max(...perSecond);
  const line = perSecond.map((rate) => SPARKS[max === 0 ? 0 : Math.round((rate / max) * (SPARKS.length - 1))]).join('');
  return { line, intervalMs, min, max };
}
