// Starts a step's server, runs redis-benchmark against it, and prints what
// the benchmark says together with the server's figures: peak memory (VmHWM)
// of the server and of its worker processes, and the queue's deepest point.
// The figures in docs/message-passing.md and the step READMEs come from it.
//
//   npx tsx tester/bench/measure-step.ts STEP "SERVER OPTIONS" "REDIS-BENCHMARK OPTIONS"
//   npx tsx tester/bench/measure-step.ts 04 "--task-cpu-ms 1" "-t set -n 20000 -c 50 -d 1000"

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stepLine } from '../progress.ts';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { launchStep } from '../harness/launch.ts';
import { HAVE_PROC, memoryBytes } from '../../shared/os/proc.ts';

const [step, serverArgs = '', benchArgs = '-t set -n 20000 -c 50'] = process.argv.slice(2);
if (step === undefined) {
  console.error('usage: npx tsx tester/bench/measure-step.ts STEP "SERVER OPTIONS" "REDIS-BENCHMARK OPTIONS"');
  process.exit(2);
}
if (!HAVE_PROC) {
  console.error('this benchmark reads memory from /proc: it runs on Linux only');
  process.exit(2);
}
const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
line.step(`starting step ${step}`);
const dataDir = mkdtempSync(path.join(tmpdir(), 'measure-'));
const args = ['--quiet', '--data-dir', dataDir, ...serverArgs.split(' ').filter(Boolean)];
const server = await launchStep(step, { args });
const peakMb = (pid: number) => memoryBytes(pid, 'VmHWM')! / 1048576; // Linux: checked at the start
const workers = (/worker processes: ([\d, ]+)/.exec(server.log())?.[1] ?? '').split(',').map(Number).filter(Boolean);

line.step(`redis-benchmark against step ${step}`);
const started = Date.now();
// (a child process run asynchronously: the event loop stays free for the line)
const { stdout: output } = await promisify(execFile)('redis-benchmark', ['-p', String(server.port), ...benchArgs.split(' '), '-q'], { encoding: 'utf8', maxBuffer: 1 << 26 });
const seconds = (Date.now() - started) / 1000;
const info = await Connection.open(server.host, server.port);
const text = describeReply(await info.send('INFO'));
await info.close();
line.clear();
const figure = (name: string) => new RegExp(`${name}:(\\d+)`).exec(text)?.[1];
console.log(`step ${step} ${serverArgs} | redis-benchmark ${benchArgs}`);
for (const line of output.split(/\r|\n/).filter((l) => /requests per second/.test(l))) console.log(`  ${line.trim()}`);
console.log(`  ${seconds.toFixed(1)} s; server peak RSS ${peakMb(server.child.pid!).toFixed(0)} MB; ` +
  `worker peak RSS ${workers.map((pid) => peakMb(pid).toFixed(0)).join(' + ')} MB; ` +
  `queue_depth_max ${figure('queue_depth_max')} (capacity ${figure('queue_capacity')}); tasks_written ${figure('tasks_written')}`);
await server.stop();
rmSync(dataDir, { recursive: true });
