import { performance } from 'node:perf_hooks';
import { describeOperation, describeOutcome, type Operation, type TimedOperation } from './operations.ts';
import type { FaultBand } from './pictures.ts';

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
 * (a fault), on one scale from the first event to the last:
 *
 *        0.412 ms  client 1  |=                           |  POST k "v1" -> OK
 *       10.020 ms  fault     |     #######################|  link blackholed
 *       10.400 ms  client 1  |     =                      |  PUT k "v2" -> OK
 *
 * `stuck` is marked as the operation the checker could not place. `describe`
 * names each operation: a dialect's (`SET k "v1" NX` in Redis's), by default
 * our own names.
 */
export function faultTimeline(history: TimedOperation[], faults: FaultBand[], origin: number, stuck?: TimedOperation,
  describe: (op: Operation) => string = describeOperation, width = 32): string {
  const ends = history.map((h) => (Number.isFinite(h.returnedAt) ? h.returnedAt - origin : h.invokedAt - origin));
  const times = [...history.map((h) => h.invokedAt - origin), ...ends, ...faults.flatMap((f) => [f.from, f.to ?? f.from])];
  const from = Math.min(...times);
  const to = Math.max(...times);
  const scale = (t: number) => Math.round(((t - from) / Math.max(to - from, 1e-6)) * (width - 1));
  const bar = (start: number, stop: number, mark: string) => ' '.repeat(start) + mark.repeat(stop - start + 1) + ' '.repeat(width - 1 - stop);
  const lines: Array<{ at: number; text: string }> = [];
  history.forEach((h, i) => {
    const at = h.invokedAt - origin;
    lines.push({
      at,
      text: `${ms(at).padStart(11)}  client ${String(h.client).padEnd(2)} |${bar(scale(at), Number.isFinite(h.returnedAt) ? scale(ends[i]!) : width - 1, '=')}|  ` +
        `${describe(h.op)} -> ${describeOutcome(h.outcome)}${h === stuck ? '   <- cannot be placed' : ''}`,
    });
  });
  for (const fault of faults) {
    const until = fault.to === null ? ' (to the end)' : fault.to === fault.from ? '' : ` (for ${(fault.to - fault.from).toFixed(1)} ms)`;
    lines.push({
      at: fault.from,
      text: `${ms(fault.from).padStart(11)}  fault     |${bar(scale(fault.from), fault.to === null ? width - 1 : scale(fault.to), '#')}|  ${fault.label}${until}`,
    });
  }
  // At one time, a fault comes first: it was made before the operation was sent.
  return lines.sort((a, b) => a.at - b.at || (a.text.includes(' fault ') ? -1 : 1)).map((line) => line.text).join('\n');
}

function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}
