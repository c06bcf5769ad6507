// Start-up replay speed: records per second from log files into the store
// the servers use (SharedStore), without the network.
//
//   npx tsx tester/bench/replay.ts [--records N] [--keys N] [--value-bytes N] [--runs N]
//
// Writes a log of N SET records over --keys keys (as a long-running server
// that was never rewritten would leave it), then replays it --runs times
// into a fresh store and prints each run and the median.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseOptions } from '../../shared/cli/options.ts';
import { stepLine } from '../progress.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import { replayLogs } from '../../shared/persistence/replay.ts';
import { setRecord } from '../../shared/persistence/task.ts';

const { values: o } = parseOptions({
  records: { type: 'number', default: 2_000_000, min: 1, help: 'SET records in the log' },
  keys: { type: 'number', default: 1000, min: 1, help: 'distinct keys' },
  valueBytes: { type: 'number', default: 3, min: 0, max: 1000, help: 'bytes per value' },
  runs: { type: 'number', default: 5, min: 1, help: 'replays to time' },
}, 'npx tsx tester/bench/replay.ts [options]');

// The progress line (stderr): writing and replaying block the event loop, so
// it is drawn between pieces of the work (tester/progress.ts).
const line = stepLine();
const dir = mkdtempSync(path.join(tmpdir(), 'bench-replay-'));
try {
  const value = Buffer.alloc(o.valueBytes, 'x');
  const chunks: Buffer[] = [];
  for (let i = 0; i < o.records; i++) {
    if (i % 100_000 === 0) line.step(`writing the log: ${i}/${o.records} records`);
    const key = Buffer.from(`key:${String(i % o.keys).padStart(12, '0')}`);
    chunks.push(Buffer.from(setRecord(i + 1, key, value)));
  }
  const log = Buffer.concat(chunks);
  writeFileSync(path.join(dir, 'log.aof'), log);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let run = 0; run < o.runs; run++) {
    line.step(`replay run ${run + 1}/${o.runs}: ${o.records} records`);
    const store = SharedStore.create();
    const started = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    const result = replayLogs(dir, ['log.aof'], store);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    line.clear();
    rates.push(result.records / seconds);
    cpuRates.push(result.records / cpuSeconds);
    console.log(`run ${run + 1}: ${result.records} records (${(log.length / 1e6).toFixed(1)} MB) -> ${result.keys} keys in ` +
      `${seconds.toFixed(3)} s (${cpuSeconds.toFixed(3)} s of CPU): ${format(result.records / seconds)} records/s`);
  }
  // On a shared machine the elapsed time includes waiting for a core; the
  // CPU time does not.
  console.log(`median of ${o.runs}: ${format(median(rates))} records/s elapsed, ${format(median(cpuRates))} per CPU second`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

function format(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}
