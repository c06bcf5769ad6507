// What a replica costs its primary, and how far behind it runs: step 06
// alone and step 06 with one step-06 replica, the same redis-benchmark
// against each in turn, then the median SET throughput of each, the CPU the
// primary's event loop spent per SET, and the replica's lag under that load.
//
//   npx tsx steps/06-worker-pool/bench/replication.ts [RUNS] [REQUESTS] [--redis]
//
// --redis: the same with three real redis-servers instead (each logging
// every write, appendonly with an fsync every second, as step 06 logs
// them): what Redis's own replication gives on this machine, to read
// step 06's ratio beside.
//
// The benchmark: `redis-benchmark -t set -P 1 -c 50 -r 100000 -n REQUESTS`
// (servers.ts's REPLICATION_LOAD, which replication-cpu.ts runs too).
// The order alternates (alone, with; with, alone; ...) so that a drift of
// the machine's speed favours neither. The throughput runs are left alone;
// the lag is measured in runs of its own, after them, under the same load:
// a sampler asks the primary for its stream offset and the replica for the
// offset it has applied (ROLE) in a loop, and a write's lag is the time from
// the primary having it to the replica having it (each sample's resolution:
// one round trip of ROLE to each). The sampler is a client of both servers
// and a process on the same cores, so its runs are slower: they give the lag,
// not the throughput.
//
// Everything runs on one machine: the replica, its worker processes and the
// benchmark take CPU from the same cores as the primary, which a replica on
// another machine would not. The primary's CPU per SET (from /proc) is the
// figure that says what replication costs the primary itself. The last line
// says whether issue 14's bar (at least 0.8x) was met in this run.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Connection } from '../../../shared/client/connection.ts';
import { findStep } from '../../../shared/cli/steps.ts';
import { stepLine } from '../../../tester/progress.ts';
import {
  REPLICATION_LOAD, barVerdict, median, setRate, startRedisReplicationSetUp, startReplicationSetUp, type BenchServer,
} from './servers.ts';

const numbers = process.argv.slice(2).filter((arg) => /^\d+$/.test(arg));
const runs = Number(numbers[0] ?? 5);
const requests = Number(numbers[1] ?? 100_000);
const redis = process.argv.includes('--redis');
const what = redis ? 'redis-server' : 'step 06';
// The progress line, on stderr (tester/progress.ts); cleared before each result.
const line = stepLine();

line.step(`starting ${what} alone, and a primary with one replica`);
const servers = redis ? await startRedisReplicationSetUp() : await startReplicationSetUp(findStep('06').server);
const { alone, primary, replica } = servers;
line.clear();

/** The stream offset from ROLE (cheaper than INFO): the primary's, or what the replica has applied. */
async function offset(c: Connection): Promise<number> {
  const reply = await c.send('ROLE');
  if (reply.type !== 'array' || reply.value === null) throw new Error('ROLE failed');
  const field = reply.value[reply.value.length === 3 ? 1 : 4]!;
  return field.type === 'integer' ? field.value : NaN;
}

const p = await Connection.open(primary.host, primary.port);
const r = await Connection.open(replica.host, replica.port);

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

// Run asynchronously: the lag sampler runs meanwhile, on this event loop.
async function benchmark(server: BenchServer): Promise<{ rate: number; cpuUs: number }> {
  const before = cpuSeconds(server.pid);
  const { stdout: out } = await promisify(execFile)('redis-benchmark', ['-p', String(server.port), ...REPLICATION_LOAD,
    '-n', String(requests), '-q'], { encoding: 'utf8' });
  return {
    rate: setRate(out),
    cpuUs: ((cpuSeconds(server.pid) - before) / requests) * 1e6,
  };
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

const percentile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const without: Array<{ rate: number; cpuUs: number }> = [];
const withReplica: Array<{ rate: number; cpuUs: number }> = [];
for (let run = 1; run <= runs; run++) {
  const aloneRun = async () => {
    line.step(`run ${run}/${runs}: redis-benchmark against ${what} alone`);
    without.push(await benchmark(alone));
  };
  const withOne = async () => {
    line.step(`run ${run}/${runs}: redis-benchmark against the primary with one replica`);
    withReplica.push(await benchmark(primary));
  };
  if (run % 2 === 1) {
    await aloneRun();
    await withOne();
  } else {
    await withOne();
    await aloneRun();
  }
  line.clear();
  const [a, w] = [without.at(-1)!, withReplica.at(-1)!];
  console.log(`run ${run}: SET without a replica ${a.rate} requests/s (${a.cpuUs.toFixed(1)} us of the primary's CPU each), ` +
    `with one ${w.rate} requests/s (${w.cpuUs.toFixed(1)} us)`);
}
const lagRuns = Math.max(1, Math.ceil(runs / 2));
for (let run = 1; run <= lagRuns; run++) {
  line.step(`lag run ${run}/${lagRuns}: redis-benchmark against the primary, the lag sampler beside it`, () => `${lags.length} samples`);
  let done = false;
  const sampler = sampleLag(() => done);
  const sampled = await benchmark(primary);
  done = true;
  await sampler;
  line.clear();
  console.log(`lag run ${run}: SET with one replica and the lag sampler ${sampled.rate} requests/s`);
}
const rate = (xs: Array<{ rate: number }>) => median(xs.map((x) => x.rate));
const cpu = (xs: Array<{ cpuUs: number }>) => median(xs.map((x) => x.cpuUs));
console.log(`${what}, median of ${runs} alternating runs (redis-benchmark ${REPLICATION_LOAD.join(' ')} -n ${requests}):`);
console.log(`  without a replica: ${rate(without).toFixed(0)} requests/s, ${cpu(without).toFixed(1)} us of the primary's CPU per SET`);
console.log(`  with one replica:  ${rate(withReplica).toFixed(0)} requests/s (${(rate(withReplica) / rate(without)).toFixed(2)}x), ` +
  `${cpu(withReplica).toFixed(1)} us per SET (${(cpu(withReplica) / cpu(without)).toFixed(2)}x)`);
console.log(`replica lag under that load (${lagRuns} runs of their own): p50 ${percentile(lags, 0.5).toFixed(2)} ms, ` +
  `p99 ${percentile(lags, 0.99).toFixed(2)} ms (${lags.length} samples)`);
if (!redis) console.log(barVerdict(rate(withReplica) / rate(without)));
await Promise.all([p.close(), r.close()]);
await servers.stop();
