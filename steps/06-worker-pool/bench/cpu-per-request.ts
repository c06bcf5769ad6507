// CPU per request of step 06, against the same step in another checkout: an
// A/B of a change that holds up when the machine is busy (requests per second
// then depend on what else runs; the CPU a server spends on a request much
// less).
//
//   npx tsx steps/06-worker-pool/bench/cpu-per-request.ts [RUNS] --before DIR [--before DIR2 ...]
//
// Each run, for each server in turn (this checkout's step 06, then DIR's, and
// DIR2's, each named by its folder when there are several):
// `redis-benchmark -c 50 -t set` and `-t get`, with -n 100000 and with
// `-P 16 -n 300000`; the server process's CPU (user + system, every thread,
// from /proc/PID/stat) around each, divided by the requests, and beside it
// (after the +) its worker processes' CPU per request, which shares the
// machine's cores with the server and the benchmark (log writes and log
// rewrites). The servers take turns going first. Medians at the end.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchServer, launchStep, type RunningServer } from '../../../tester/harness/launch.ts';
import { median } from './servers.ts';
import { stepLine } from '../../../tester/progress.ts';

const beforeDirs = process.argv.flatMap((arg, i) => (process.argv[i - 1] === '--before' ? [arg] : []));
if (beforeDirs.length === 0) throw new Error('usage: cpu-per-request.ts [RUNS] --before DIR [--before DIR2 ...]');
const runs = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 3);
const scratch = mkdtempSync(path.join(tmpdir(), 'kv-cpu-'));

const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in 1/100 s
};

const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
line.step('starting both servers');
const servers: Array<[string, RunningServer]> = [
  ['step 06', await launchStep('06', { args: ['--quiet', '--data-dir', mkdtempSync(path.join(scratch, 'a-'))] })],
  ...await Promise.all(beforeDirs.map(async (dir, i): Promise<[string, RunningServer]> => [
    beforeDirs.length === 1 ? 'step 06 before' : path.basename(path.resolve(dir)),
    await launchServer(path.resolve(dir, 'steps/06-worker-pool/server.ts'), { args: ['--quiet', '--data-dir', mkdtempSync(path.join(scratch, `b${i}-`))] }),
  ])),
];
const benchmarks = [
  ['-P 1 SET', ['-t', 'set', '-n', '100000']],
  ['-P 1 GET', ['-t', 'get', '-n', '100000']],
  ['-P 16 SET', ['-t', 'set', '-n', '300000', '-P', '16']],
  ['-P 16 GET', ['-t', 'get', '-n', '300000', '-P', '16']],
] as const;

const bench = (port: number, args: readonly string[]) =>
  execFileSync('redis-benchmark', ['-p', String(port), '-c', '50', '-q', ...args], { encoding: 'utf8' });
// Its worker processes, from the log line both trees print at start-up.
const workerPids = (server: RunningServer) =>
  (/worker processes: ([\d, ]+)/.exec(server.log())?.[1] ?? '').split(',').map((pid) => Number(pid.trim())).filter((pid) => pid > 0);
const workersOf = new Map(servers.map(([name, server]) => [name, workerPids(server)]));
const workerSeconds = (name: string) => workersOf.get(name)!.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

line.step('warming up');
for (const [, server] of servers) bench(server.port, ['-t', 'set,get', '-n', '50000', '-P', '16']); // warm up

const all = new Map<string, number[]>();
const keep = (key: string, value: number) => all.set(key, [...(all.get(key) ?? []), value]);
const cell = (name: string, server: number, workers: number) => `${name} ${server.toFixed(2).padStart(6)} + ${workers.toFixed(2).padStart(5)}`;
line.clear();
console.log('CPU per request, in microseconds (redis-benchmark -c 50): the server process + its worker processes');
for (let run = 1; run <= runs; run++) {
  for (const [label, args] of benchmarks) {
    const cells = new Map<string, string>();
    // Each run starts with the next server (with two: odd runs this
    // checkout first, even runs the other): none always runs right after
    // another's worker processes finished writing.
    const first = (run - 1) % servers.length;
    for (const [name, server] of [...servers.slice(first), ...servers.slice(0, first)]) {
      line.step(`run ${run}/${runs}: redis-benchmark ${args.join(' ')} against ${name}`);
      const pid = server.child.pid!;
      const before = cpuSeconds(pid);
      const workersBefore = workerSeconds(name);
      bench(server.port, args);
      const requests = Number(args[args.indexOf('-n') + 1]);
      const us = ((cpuSeconds(pid) - before) * 1e6) / requests;
      const workersUs = ((workerSeconds(name) - workersBefore) * 1e6) / requests;
      cells.set(name, cell(name, us, workersUs));
      keep(`${label}|${name}`, us);
      keep(`${label}|${name}|workers`, workersUs);
    }
    line.clear();
    console.log(`run ${run} ${label.padEnd(9)} ${servers.map(([name]) => cells.get(name)!).join('   ')}`);
  }
}
console.log(`median of ${runs} runs:`);
for (const [label] of benchmarks) {
  const cells = servers.map(([name]) => cell(name, median(all.get(`${label}|${name}`)!), median(all.get(`${label}|${name}|workers`)!)));
  console.log(`median ${label.padEnd(9)} ${cells.join('   ')}`);
}
await Promise.all(servers.map(([, server]) => server.stop()));
rmSync(scratch, { recursive: true, force: true });
