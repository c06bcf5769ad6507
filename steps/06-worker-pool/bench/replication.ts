// What a replica costs its primary, and how far behind it runs: step 06
// alone and step 06 with one step-06 replica, the same redis-benchmark
// against each in turn (interleaved runs), then the median SET throughput of
// each and the replica's lag under that load.
//
//   npx tsx steps/06-worker-pool/bench/replication.ts [RUNS] [REQUESTS]
//
// The benchmark: `redis-benchmark -t set -P 1 -c 50 -r 100000 -n REQUESTS`.
// The lag: while the benchmark runs, a sampler asks the primary for its
// stream offset and the replica for the offset it has applied (ROLE) in a
// loop; a write's lag is the time from the primary having it to the replica
// having it (each sample's resolution: one round trip of ROLE to each).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Connection } from '../../../shared/client/connection.ts';
import { describeReply } from '../../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from '../../../tester/harness/launch.ts';
import { scratchDir } from '../../../tester/harness/scratch-dir.ts';

const runs = Number(process.argv[2] ?? 5);
const requests = Number(process.argv[3] ?? 100_000);
const start = (args: string[] = []) => launchStep('06', { args: ['--quiet', '--data-dir', scratchDir('repl-bench-'), ...args] });

const alone = await start();
const primary = await start();
const replica = await start(['--replicaof', `127.0.0.1 ${primary.port}`]);

/** The stream offset from ROLE (cheaper than INFO): the primary's, or what the replica has applied. */
async function offset(c: Connection): Promise<number> {
  const reply = await c.send('ROLE');
  if (reply.type !== 'array' || reply.value === null) throw new Error('ROLE failed');
  const field = reply.value[reply.value.length === 3 ? 1 : 4]!;
  return field.type === 'integer' ? field.value : NaN;
}

const p = await Connection.open(primary.host, primary.port);
const r = await Connection.open(replica.host, replica.port);
for (const deadline = Date.now() + 30_000; !describeReply(await r.send('ROLE')).includes('"connected"');) {
  if (Date.now() > deadline) throw new Error('the replica never synced');
}

// Run asynchronously: the lag sampler runs meanwhile, on this event loop.
async function benchmark(server: RunningServer): Promise<number> {
  const { stdout: out } = await promisify(execFile)('redis-benchmark', ['-p', String(server.port), '-t', 'set', '-P', '1', '-c', '50', '-r', '100000',
    '-n', String(requests), '-q'], { encoding: 'utf8' });
  return Number(/SET: ([\d.]+) requests per second/.exec(out)?.[1]);
}

const lags: number[] = [];
async function sampleLag(stop: () => boolean): Promise<void> {
  const pending: Array<{ at: number; offset: number }> = [];
  // After the benchmark, until every sampled offset has reached the replica (at most 60 s more).
  const limit = () => performance.now() + 60_000;
  let until = Infinity;
  while (pending.length > 0 || !stop()) {
    if (stop() && until === Infinity) until = limit();
    if (performance.now() > until) throw new Error(`the replica did not catch up within 60 s (${pending.length} samples behind)`);
    if (!stop()) pending.push({ at: performance.now(), offset: await offset(p) });
    const have = await offset(r);
    const now = performance.now();
    while (pending.length > 0 && pending[0]!.offset <= have) lags.push(now - pending.shift()!.at);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const without: number[] = [];
const withReplica: number[] = [];
for (let run = 1; run <= runs; run++) {
  without.push(await benchmark(alone));
  let done = false;
  const sampler = sampleLag(() => done);
  withReplica.push(await benchmark(primary));
  done = true;
  await sampler;
  console.log(`run ${run}: SET without a replica ${without.at(-1)} requests/s, with one ${withReplica.at(-1)} requests/s`);
}
console.log(`median of ${runs} interleaved runs (redis-benchmark -t set -P 1 -c 50 -n ${requests}):`);
console.log(`  without a replica: ${median(without).toFixed(0)} requests/s`);
console.log(`  with one replica:  ${median(withReplica).toFixed(0)} requests/s (${(median(withReplica) / median(without)).toFixed(2)}x)`);
console.log(`replica lag under that load: p50 ${percentile(lags, 0.5).toFixed(2)} ms, p99 ${percentile(lags, 0.99).toFixed(2)} ms (${lags.length} samples)`);
await Promise.all([p.close(), r.close()]);
await Promise.all([replica.stop(), primary.stop(), alone.stop()]);
