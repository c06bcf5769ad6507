import { describeOutcome, type Operation, type TimedOperation } from './operations.ts';
import { wrap } from './wrap.ts';

// The text timeline of the report (checker/explain.ts draws the operations
// around the one the checker could not place, faults.ts adds the faults): a
// row per operation or fault, a bar for when it was in flight, on one scale.
//
//      222.257 ms  client 10 |====                            |  GET k1 -> "1000004"
//      232.235 ms  client 10 |              =============     |  PUT k1 "1000010" -> OK
//      241.487 ms  client 8  |                            ====|  GET k1 -> "1000006"
//                                                         ^^^^ cannot be placed
//
// The rows fit in `columns`: the bars are as wide as the room left by the
// longest text allows (from 12 to 32 columns), and a text longer than that
// goes on, under itself, on the next line.

export interface TimelineRow {
  /** When it started, in ms from the scenario's origin (the time shown, and the bar's start). */
  from: number;
  /** When it ended, on the same clock; null for never (no reply, a fault to the end): the bar runs to the end. */
  to: number | null;
  /** Who: 'client 3', 'fault'. */
  who: string;
  /** The bar's character: '=' for an operation in flight, '#' for a fault. */
  fill: string;
  /** What: `PUT k "v" -> OK`, `link blackholed (for 4.2 ms)`. */
  text: string;
  /** The operation the checker could not place: marked on a line of its own under its bar. */
  stuck?: boolean;
}

/** An operation's row: from its call to its reply (a bar to the end if none came), named by `describe`. */
export function operationRow(h: TimedOperation, origin: number, describe: (op: Operation) => string, stuck: boolean): TimelineRow {
  return {
    from: h.invokedAt - origin,
    to: Number.isFinite(h.returnedAt) ? h.returnedAt - origin : null,
    who: `client ${h.client}`,
    fill: '=',
    text: `${describe(h.op)} -> ${describeOutcome(h.outcome)}`,
    stuck,
  };
}

const MIN_BAR = 12;
const MAX_BAR = 32;

/** The rows, in the order given, as lines of at most `columns` (if a word of a text allows). */
export function drawTimeline(rows: TimelineRow[], columns: number): string {
  if (rows.length === 0) return '';
  const from = Math.min(...rows.map((row) => row.from));
  const to = Math.max(...rows.map((row) => row.to ?? row.from));
  const time = (row: TimelineRow) => `${row.from.toFixed(3)} ms`;
  const timeWidth = Math.max(11, ...rows.map((row) => time(row).length));
  const whoWidth = Math.max(9, ...rows.map((row) => row.who.length));
  const before = timeWidth + 2 + whoWidth + 2; // up to the bar: '   12.301 ms  client 3  |'
  const longest = Math.max(...rows.map((row) => row.text.length));
  const width = Math.min(MAX_BAR, Math.max(MIN_BAR, columns - before - 3 - longest));
  const scale = (t: number) => Math.round(((t - from) / Math.max(to - from, 1e-6)) * (width - 1));
  const lines: string[] = [];
  for (const row of rows) {
    const start = scale(row.from);
    const stop = row.to === null || !Number.isFinite(row.to) ? width - 1 : scale(row.to);
    const bar = ' '.repeat(start) + row.fill.repeat(stop - start + 1) + ' '.repeat(width - 1 - stop);
    const head = `${time(row).padStart(timeWidth)}  ${row.who.padEnd(whoWidth)} |${bar}|  `;
    lines.push(...wrap(head + row.text, ' '.repeat(head.length), columns));
    if (row.stuck) lines.push(`${' '.repeat(before + start)}${'^'.repeat(stop - start + 1)} cannot be placed`);
  }
  return lines.join('\n');
}
