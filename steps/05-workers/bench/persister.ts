// Throughput of the persistence path alone, without the network or threads:
// how many writes per second go from submit() to a worker's log.
//
//   npx tsx steps/05-workers/bench/persister.ts [--writes N] [--group N]
//     [--workers N] [--dispatch free|by-key] [--durable] [--task-cpu-ms N]
//
// `--group` is how many tasks each submit() carries (a connection thread's
// message holds the writes of one read from its socket). The producer keeps
// at most `capacity` tasks outstanding, as a server under load would.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseOptions } from '../../../shared/cli/options.ts';
import { MapStore } from '../../../shared/store/map-store.ts';
import { Persister } from '../../04-ipc-queue/persister.ts';
import { DISPATCHES, DISPATCH_NAMES } from '../dispatch.ts';
import { RecordingStore, newSequence } from '../../../shared/persistence/recording-store.ts';
import { exitWhenOutputCloses } from '../../../shared/cli/pipe.ts';
import { stepLine } from '../../../tester/progress.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const { values: o } = parseOptions({
  writes: { type: 'number', default: 200_000, min: 1, help: 'writes to persist' },
  group: { type: 'number', default: 1, min: 1, help: 'tasks per submit()' },
  workers: { type: 'number', default: 1, min: 1, max: 64, help: 'worker processes' },
  dispatch: { type: 'string', default: 'by-key', choices: DISPATCH_NAMES, help: 'dispatch' },
  durable: { type: 'boolean', default: false, help: 'acknowledge after fsync' },
  taskCpuMs: { type: 'number', default: 0, min: 0, help: 'CPU per task in the worker' },
  capacity: { type: 'number', default: 10_000, min: 1, help: 'queue capacity' },
}, 'npx tsx steps/05-workers/bench/persister.ts [options]');

const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
line.step(`starting ${o.workers} worker process(es)`);
const dir = mkdtempSync(path.join(tmpdir(), 'bench-persister-'));
const persister = await Persister.start({
  dataDir: dir, workers: o.workers, dispatch: DISPATCHES[o.dispatch], capacity: o.capacity,
  durable: o.durable, taskCpuMs: o.taskCpuMs, firstSeq: 1,
});
const memory = new RecordingStore(new MapStore(), newSequence(1));
const value = Buffer.alloc(16, 'v');
const started = performance.now();
let inFlight: Array<Promise<void>> = [];
for (let i = 0; i < o.writes; i += o.group) {
  for (let j = i; j < Math.min(o.writes, i + o.group); j++) memory.set(Buffer.from(`key:${j % 100_000}`), value);
  inFlight.push(persister.submit(memory.takeTasks()));
  // Like a server: stop producing while the persister holds our writes back.
  if (inFlight.length * o.group >= o.capacity) {
    line.step(`writes ${Math.min(o.writes, i + o.group)}/${o.writes} submitted`);
    await Promise.all(inFlight);
    inFlight = [];
  }
}
line.step(`writes ${o.writes}/${o.writes} submitted; waiting for the logs`);
await Promise.all(inFlight);
await persister.close();
line.clear();
const seconds = (performance.now() - started) / 1000;
const stats = persister.stats();
console.log(
  `${o.writes} writes, ${o.workers} worker(s) ${o.dispatch}, group ${o.group}, durable ${o.durable}: ` +
  `${Math.round(o.writes / seconds)} writes/s, ${stats.batches_sent} IPC messages ` +
  `(${(o.writes / stats.batches_sent).toFixed(1)} tasks each)`,
);
rmSync(dir, { recursive: true });
