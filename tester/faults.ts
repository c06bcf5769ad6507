import { performance } from 'node:perf_hooks';
import { describeOperation, type Operation, type TimedOperation } from './operations.ts';
import type { FaultBand } from './pictures.ts';
import { SAMPLE_COLUMNS } from './report.ts';
import { drawTimeline, operationRow, type TimelineRow } from './text-timeline.ts';

// The faults a scenario makes (a link blackholed, a process SIGKILLed or
// SIGSTOPped), with when they were made and ended, on the same clock as the
// operations (performance.now(), as a time from an origin): the report page
// draws them as bands behind a timeline's boxes, and the text report as lines
// of their own among the operations.

export class FaultLog {
  readonly bands: FaultBand[] = [];

  constructor(private readonly origin: number) {}

  /** A fault that lasts until `end()` is called (or to the end of the timeline); `endedBy` names what ends it (`SIGCONT`). */
  begin(label: string, endedBy?: string): { end(): void } {
    const band: FaultBand = { from: performance.now() - this.origin, to: null, label, ...(endedBy === undefined ? {} : { endedBy }) };
    this.bands.push(band);
    return { end: () => { band.to ??= performance.now() - this.origin; } };
  }

  /** A fault of one moment: a promotion, a SIGCONT. */
  moment(label: string): void {
    const at = performance.now() - this.origin;
    this.bands.push({ from: at, to: at, label });
  }
}

/**
 * Every operation and every fault of a short history, one line each, in
 * time order, with a bar for when each was in flight (an operation) or on
 * (a fault), on one scale from the first event to the last, in at most
 * `columns` (text-timeline.ts):
 *
 *        0.412 ms  client 1  |==                              |  POST k "v1" -> OK
 *       10.020 ms  fault     |                            ####|  link blackholed (to the end)
 *       10.400 ms  client 1  |                              ==|  PUT k "v2" -> OK
 *
 * `stuck` is marked as the operation the checker could not place. `describe`
 * names each operation: a dialect's (`SET k "v1" NX` in Redis's), by default
 * our own names.
 */
export function faultTimeline(history: TimedOperation[], faults: FaultBand[], origin: number, stuck?: TimedOperation,
  describe: (op: Operation) => string = describeOperation, columns = SAMPLE_COLUMNS): string {
  const rows: TimelineRow[] = history.map((h) => operationRow(h, origin, describe, h === stuck));
  for (const fault of faults) {
    const until = fault.to === null ? ' (to the end)' : fault.to === fault.from ? '' : ` (for ${(fault.to - fault.from).toFixed(1)} ms)`;
    rows.push({ from: fault.from, to: fault.to, who: 'fault', fill: '#', text: `${fault.label}${until}` });
  }
  // At one time, a fault comes first: it was made before the operation was sent.
  return drawTimeline(rows.sort((a, b) => a.from - b.from || (a.who === 'fault' ? -1 : 1)), columns);
}