// Where the CPU goes when step 06 replicates: the same redis-benchmark
// against a primary alone and a primary with one replica, in turn, and the
// CPU seconds per 100,000 SETs of each process: the primary's event loop
// (with its pool threads), its worker processes, the replica's event loop,
// the replica's worker processes, and redis-benchmark itself. The medians of
// RUNS such pairs.
//
//   npx tsx steps/06-worker-pool/bench/replication-cpu.ts [RUNS] [REQUESTS] [--before DIR] [--no-rewrites]
//
// With --before, the same for the step 06 of another tree (a checkout with
// node_modules), each pair of that tree's run in turn with this tree's, so
// that a drift of the machine favours neither. With --no-rewrites, the same
// again for this tree's servers started with --aof-rewrite-percentage 0, in
// turn with the others: what the worker processes' log rewrites cost, and
// the ratio a server that never compacted its logs would reach (an upper
// bound for any rewrite schedule, not a setting to run with: its logs grow
// without end). The CPU figures come from
// /proc (Linux only): utime + stime of each process; redis-benchmark's from
// the shell that waited for it (its children's times). The servers and the
// load are replication.ts's (servers.ts).

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { HAVE_PROC, TICKS_PER_SECOND, allPids, cpuTicks, statFields } from '../../../shared/os/proc.ts';
import { stepLine } from '../../../tester/progress.ts';
import {
  REPLICATION_LOAD, barVerdict, median, setRate, startReplicationSetUp, type BenchServer, type ReplicationSetUp,
} from './servers.ts';

if (!HAVE_PROC) throw new Error('this benchmark reads /proc (Linux)');
const numbers = process.argv.slice(2).filter((arg) => /^\d+$/.test(arg));
const runs = Number(numbers[0] ?? 5);
const requests = Number(numbers[1] ?? 100_000);
const beforeAt = process.argv.indexOf('--before');
const trees = beforeAt > 0 ? [path.resolve(process.argv[beforeAt + 1]!), path.resolve('.')] : [path.resolve('.')];
const noRewrites = process.argv.includes('--no-rewrites');
// The progress line, on stderr (tester/progress.ts); cleared before each result.
const line = stepLine();

const GROUPS = ['primary loop', 'primary workers', 'replica loop', 'replica workers', 'redis-benchmark'] as const;
type Figures = Record<(typeof GROUPS)[number], number> & { rate: number };

const childrenOf = (pid: number) => allPids().filter((p) => statFields(p)?.[1] === String(pid));
const ticks = (pids: number[]) => pids.reduce((sum, pid) => sum + (cpuTicks(pid) ?? 0), 0);
const per100k = (t: number) => (t / TICKS_PER_SECOND / requests) * 100_000;

/** redis-benchmark's SET rate and its CPU ticks (from the shell that waited for it: cutime + cstime). */
async function benchmark(port: number): Promise<{ rate: number; ticks: number }> {
  const { stdout } = await promisify(execFile)('sh', ['-c', 'redis-benchmark "$@"; cat /proc/$$/stat', 'sh',
    '-p', String(port), ...REPLICATION_LOAD, '-n', String(requests), '-q'], { encoding: 'utf8' });
  const fields = stdout.slice(stdout.lastIndexOf(')') + 2).split(' ');
  return { rate: setRate(stdout), ticks: Number(fields[13]) + Number(fields[14]) };
}

async function measure(server: BenchServer, replica: BenchServer | null): Promise<Figures> {
  const pids = {
    'primary loop': [server.pid], 'primary workers': childrenOf(server.pid),
    'replica loop': replica ? [replica.pid] : [], 'replica workers': replica ? childrenOf(replica.pid) : [],
  };
  const before = Object.fromEntries(Object.entries(pids).map(([group, list]) => [group, ticks(list)]));
  const run = await benchmark(server.port);
  const figures = { rate: run.rate, 'redis-benchmark': per100k(run.ticks) } as Figures;
  for (const [group, list] of Object.entries(pids)) figures[group as keyof typeof pids] = per100k(ticks(list) - before[group]!);
  return figures;
}

interface Tree extends ReplicationSetUp { name: string; without: Figures[]; with: Figures[]; bound?: true }
const setUp: Tree[] = [];
const serverFile = (tree: string) => path.join(tree, 'steps/06-worker-pool/server.ts');
for (const tree of trees) {
  const name = tree === path.resolve('.') ? 'this tree' : tree;
  line.step(`starting step 06 of ${name} alone, and a primary with one replica`);
  setUp.push({ name, ...(await startReplicationSetUp(serverFile(tree))), without: [], with: [] });
}
if (noRewrites) {
  const name = 'this tree, no log rewrites (--aof-rewrite-percentage 0)';
  line.step(`starting step 06 of ${name} alone, and a primary with one replica`);
  setUp.push({ name, ...(await startReplicationSetUp(serverFile('.'), ['--aof-rewrite-percentage', '0'])), without: [], with: [], bound: true });
}

for (let run = 1; run <= runs; run++) {
  for (const tree of run % 2 === 1 ? setUp : [...setUp].reverse()) {
    const aloneRun = async () => {
      line.step(`run ${run}/${runs}: ${tree.name}, step 06 alone`);
      tree.without.push(await measure(tree.alone, null));
    };
    const withOne = async () => {
      line.step(`run ${run}/${runs}: ${tree.name}, the primary with one replica`);
      tree.with.push(await measure(tree.primary, tree.replica));
    };
    if (run % 2 === 1) { await aloneRun(); await withOne(); }
    else { await withOne(); await aloneRun(); }
  }
}
line.clear();

const figures = (list: Figures[]) => `${median(list.map((f) => f.rate)).toFixed(0).padStart(6)} SET/s | ` +
  GROUPS.map((group) => median(list.map((f) => f[group])).toFixed(2).padStart(5)).join(' | ');
console.log(`medians of ${runs} runs (redis-benchmark ${REPLICATION_LOAD.join(' ')} -n ${requests}), CPU seconds per 100,000 SETs:`);
console.log(`  (rate | ${GROUPS.join(' | ')})`);
for (const tree of setUp) {
  console.log(`${tree.name}`);
  console.log(`  without a replica: ${figures(tree.without)}`);
  console.log(`  with one replica:  ${figures(tree.with)}`);
  const verdict = barVerdict(median(tree.with.map((f) => f.rate)) / median(tree.without.map((f) => f.rate)));
  console.log(`  ${tree.bound ? `an upper bound, not the defaults: ${verdict}` : verdict}`);
}
for (const tree of setUp) await tree.stop();
