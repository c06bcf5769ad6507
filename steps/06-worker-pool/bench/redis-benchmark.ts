// redis-benchmark against step 06, step 01 and redis-server, in one run:
// each server started here (redis-server with no persistence), the same
// benchmark run against each in turn, one table of requests per second and
// the ratio to redis-server, then each server's median over the runs.
//
//   npx tsx steps/06-worker-pool/bench/redis-benchmark.ts [RUNS] [TESTS] [--before DIR ...]
//
// --before DIR adds step 06 as another checkout has it (a git worktree of an
// earlier commit, say), measured in the same runs: an A/B of a change. Given
// more than once, each is named by its folder; the step 06 servers take
// turns going first, run after run.
//
// The benchmarks: `redis-benchmark -c 50 -n 100000 -t set,get` and the same
// with `-P 16` (16 requests in flight per connection) and -n 300000. TESTS
// replaces set,get with redis-benchmark's own test names (incr, say).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchServer, launchStep } from '../../../tester/harness/launch.ts';
import { liveLine } from '../../../tester/progress.ts';
import { exitWhenOutputCloses } from '../../../shared/cli/pipe.ts';
import { median, startRedis } from './servers.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const beforeDirs = process.argv.flatMap((arg, i) => (process.argv[i - 1] === '--before' ? [arg] : []));
const positionals = process.argv.slice(2).filter((arg, i, all) => arg !== '--before' && all[i - 1] !== '--before');
const runs = Number(positionals.find((arg) => /^\d+$/.test(arg)) ?? 1);
const tests = positionals.find((arg) => !/^\d+$/.test(arg)) ?? 'set,get';
const ops = tests.split(',').map((test) => test.trim().toUpperCase());
const dataDir = mkdtempSync(path.join(tmpdir(), 'rb-'));
const step06 = await launchStep('06', { args: ['--quiet', '--data-dir', dataDir] });
const beforeDataDir = mkdtempSync(path.join(tmpdir(), 'rb-before-'));
const befores = await Promise.all(beforeDirs.map((dir, i) =>
  launchServer(path.resolve(dir, 'steps/06-worker-pool/server.ts'), { args: ['--quiet', '--data-dir', mkdtempSync(path.join(beforeDataDir, `${i}-`))] })));
const step01 = await launchStep('01', { args: ['--quiet'] });
const redis = await startRedis();
const redisPort = redis.port;

const servers: Array<readonly [string, number]> = [
  ['step 06', step06.port],
  ...befores.map((before, i) => [beforeDirs.length === 1 ? 'step 06 before' : path.basename(path.resolve(beforeDirs[i]!)), before.port] as const),
  ['step 01', step01.port],
  ['redis-server', redisPort],
];
const benchmarks = [['-P 1', ['-n', '100000']], ['-P 16', ['-n', '300000', '-P', '16']]] as const;

const progress = liveLine(process.stderr);

function bench(port: number, extra: readonly string[]): Record<string, number> {
  progress(`redis-benchmark ${extra.join(' ')} against port ${port}...`);
  const out = execFileSync('redis-benchmark', ['-p', String(port), '-c', '50', '-t', tests, '-q', ...extra], { encoding: 'utf8' });
  const figures: Record<string, number> = {};
  for (const match of out.matchAll(/([A-Z]+): ([\d.]+) requests per second/g)) figures[match[1]!] = Number(match[2]);
  const missing = ops.filter((op) => figures[op] === undefined);
  if (missing.length > 0) throw new Error(`redis-benchmark gave no figure for ${missing.join(', ')}:\n${out}`);
  return figures;
}

// One unmeasured pass against every server first: a Node.js server that just
// started is still compiling its hot code, and step 06 is still starting its
// pool threads. The same for all three, so the comparison stays fair.
for (const [, port] of servers) bench(port, ['-n', '50000', '-P', '16']);
progress('');

console.log(`redis-benchmark -c 50 -t ${tests} (-n 100000; with -P 16: -n 300000), requests per second:`);
// This machine's speed drifts from second to second (other virtual machines
// share its cores), so one run can flatter or wrong any server. Each run
// measures the three servers back to back, and the summary takes each
// server's median over the runs.
const all = new Map<string, number[]>(); // "label server op" -> one figure per run
const ratio = (value: number, reference: number) => `(${(value / reference).toFixed(2)}x)`;
for (let run = 1; run <= runs; run++) {
  for (const [label, extra] of benchmarks) {
    // The step 06 servers in turn: run 1 this checkout's first, run 2 the next one's...
    const sixes = servers.length - 2;
    const first = (run - 1) % sixes;
    const order = [...servers.slice(first, sixes), ...servers.slice(0, first), ...servers.slice(sixes)];
    const measured = new Map(order.map(([name, port]) => [name, bench(port, extra)] as const));
    const results = servers.map(([name]) => [name, measured.get(name)!] as const);
    const reference = results[results.length - 1]![1]; // redis-server
    for (const [name, figures] of results) {
      const cells = ops.map((op) => `${op} ${figures[op]!.toFixed(0).padStart(7)} ${ratio(figures[op]!, reference[op]!)}`);
      progress('');
      console.log(`run ${run} ${label.padEnd(6)} ${name.padEnd(14)} ${cells.join('   ')}`);
      for (const op of ops) all.set(`${label} ${name} ${op}`, [...(all.get(`${label} ${name} ${op}`) ?? []), figures[op]!]);
    }
  }
}
if (runs > 1) {
  console.log(`median of ${runs} runs:`);
  for (const [label] of benchmarks) {
    for (const [name] of servers) {
      const cells = ops.map((op) => {
        const value = median(all.get(`${label} ${name} ${op}`)!);
        return `${op} ${value.toFixed(0).padStart(7)} ${ratio(value, median(all.get(`${label} redis-server ${op}`)!))}`;
      });
      console.log(`median ${label.padEnd(6)} ${name.padEnd(14)} ${cells.join('   ')}`);
    }
  }
}
console.log('(x: against redis-server in the same run; for the medians, against its median)');
await Promise.all([step06.stop(), step01.stop(), ...befores.map((before) => before.stop())]);
rmSync(beforeDataDir, { recursive: true, force: true });
redis.stop();
rmSync(dataDir, { recursive: true, force: true });
