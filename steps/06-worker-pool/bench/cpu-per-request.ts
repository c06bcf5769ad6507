// CPU per request of step 06, against the same step in another checkout: an
// A/B of a change that holds up when the machine is busy (requests per second
// then depend on what else runs; the CPU a server spends on a request much
// less).
//
//   npx tsx steps/06-worker-pool/bench/cpu-per-request.ts [RUNS] --before DIR
//
// Each run, for each server in turn (this checkout's step 06, then DIR's):
// `redis-benchmark -c 50 -t set` and `-t get`, with -n 100000 and with
// `-P 16 -n 300000`; the server process's CPU (user + system, every thread,
// from /proc/PID/stat) around each, divided by the requests, and apart the
// same for its worker processes (the server's child processes, together).
// Medians at the end.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchServer, launchStep, type RunningServer } from '../../../tester/harness/launch.ts';
import { median } from './servers.ts';

const beforeAt = process.argv.indexOf('--before');
if (beforeAt < 0) throw new Error('usage: cpu-per-request.ts [RUNS] --before DIR');
const beforeDir = process.argv[beforeAt + 1]!;
const runs = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 3);
const scratch = mkdtempSync(path.join(tmpdir(), 'kv-cpu-'));

const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in 1/100 s
};
// The worker processes: the children of every thread of the server process.
const childPids = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1').split(' ').filter(Boolean).map(Number));
const workersCpuSeconds = (pid: number) => childPids(pid).reduce((sum, child) => sum + cpuSeconds(child), 0);

const servers: Array<[string, RunningServer]> = [
  ['step 06', await launchStep('06', { args: ['--quiet', '--data-dir', mkdtempSync(path.join(scratch, 'a-'))] })],
  ['step 06 before', await launchServer(path.resolve(beforeDir, 'steps/06-worker-pool/server.ts'), { args: ['--quiet', '--data-dir', mkdtempSync(path.join(scratch, 'b-'))] })],
];
const benchmarks = [
  ['-P 1 SET', ['-t', 'set', '-n', '100000']],
  ['-P 1 GET', ['-t', 'get', '-n', '100000']],
  ['-P 16 SET', ['-t', 'set', '-n', '300000', '-P', '16']],
  ['-P 16 GET', ['-t', 'get', '-n', '300000', '-P', '16']],
] as const;

const bench = (port: number, args: readonly string[]) =>
  execFileSync('redis-benchmark', ['-p', String(port), '-c', '50', '-q', ...args], { encoding: 'utf8' });
for (const [, server] of servers) bench(server.port, ['-t', 'set,get', '-n', '50000', '-P', '16']); // warm up

const all = new Map<string, number[]>();
console.log('CPU per request, in microseconds, server process / its worker processes (redis-benchmark -c 50):');
for (let run = 1; run <= runs; run++) {
  for (const [label, args] of benchmarks) {
    const cells: string[] = [];
    for (const [name, server] of servers) {
      const pid = server.child.pid!;
      const before = cpuSeconds(pid);
      const workersBefore = workersCpuSeconds(pid);
      bench(server.port, args);
      const requests = Number(args[args.indexOf('-n') + 1]);
      const us = ((cpuSeconds(pid) - before) * 1e6) / requests;
      const workersUs = ((workersCpuSeconds(pid) - workersBefore) * 1e6) / requests;
      cells.push(`${name} ${us.toFixed(2).padStart(6)} / ${workersUs.toFixed(2).padStart(5)}`);
      all.set(`${label}|${name}`, [...(all.get(`${label}|${name}`) ?? []), us]);
      all.set(`${label}|${name}|workers`, [...(all.get(`${label}|${name}|workers`) ?? []), workersUs]);
    }
    console.log(`run ${run} ${label.padEnd(9)} ${cells.join('   ')}`);
  }
}
console.log(`median of ${runs} runs:`);
for (const [label] of benchmarks) {
  console.log(`median ${label.padEnd(9)} ${servers.map(([name]) => `${name} ${median(all.get(`${label}|${name}`)!).toFixed(2).padStart(6)} / ${median(all.get(`${label}|${name}|workers`)!).toFixed(2).padStart(5)}`).join('   ')}`);
}
await Promise.all(servers.map(([, server]) => server.stop()));
rmSync(scratch, { recursive: true, force: true });
