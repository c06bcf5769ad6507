// The disk a long run leaves, and the restart it costs: step 06 with its
// default log rewrite policy, after a redis-benchmark run of SETs.
//
//   npx tsx steps/06-worker-pool/bench/log-size.ts [REDIS-BENCHMARK OPTIONS...]
//   npx tsx steps/06-worker-pool/bench/log-size.ts -t set -r 1000 -n 5000000 -P 16
//
// Prints the logs' bytes on disk after the run, then restarts the server on
// them (time from start to its `listening` line, and what it replayed),
// then rewrites them once more (BGREWRITEAOF) to learn the live data's size:
// one record per key, which is the smallest a log of this data can be.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stepLine } from '../../../tester/progress.ts';
import { Connection } from '../../../shared/client/connection.ts';
import { describeReply } from '../../../shared/protocol/reply.ts';
import { launchStep } from '../../../tester/harness/launch.ts';

const benchmarkArgs = process.argv.slice(2);
if (benchmarkArgs.length === 0) benchmarkArgs.push('-t', 'set', '-r', '1000', '-n', '5000000', '-P', '16');
const dataDir = mkdtempSync(path.join(tmpdir(), 'kv-log-size-'));
// The progress line, on stderr (tester/progress.ts); cleared before each result.
const line = stepLine();
const logBytes = () => readdirSync(dataDir).filter((name) => name.endsWith('.aof'))
  .reduce((sum, name) => sum + statSync(path.join(dataDir, name)).size, 0);
const info = async (connection: Connection, field: string) => {
  const reply = await connection.send('INFO');
  const text = reply.type === 'bulk' ? String(reply.value) : '';
  return new RegExp(`^${field}:(\\S+)`, 'm').exec(text)?.[1] ?? '?';
};

/** Waits until no rewrite runs (and, with `one`, at least one has ended). */
async function untilNoRewrite(connection: Connection, one = false): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await info(connection, 'aof_rewrite_in_progress')) !== '0' || (one && (await info(connection, 'aof_rewrites')) === '0')) {
    if (Date.now() > deadline) throw new Error('the rewrites did not end within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

try {
  line.step('starting step 06');
  const first = await launchStep('06', { args: ['--quiet', '--data-dir', dataDir] });
  line.clear();
  console.log(`$ redis-benchmark ${benchmarkArgs.join(' ')} -q   (against step 06, default rewrite policy)`);
  line.step('redis-benchmark against step 06', () => `logs ${logBytes()} bytes`);
  // (a child process run asynchronously: the event loop stays free for the line)
  const { stdout: out } = await promisify(execFile)('redis-benchmark', ['-p', String(first.port), ...benchmarkArgs, '-q'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  line.clear();
  console.log(out.split('\r').at(-1)!.trim());
  const c = await Connection.open(first.host, first.port);
  const atEnd = logBytes();
  // A rewrite may still run (it started before the last writes): let it end.
  line.step('waiting for a rewrite to end');
  await untilNoRewrite(c);
  line.clear();
  console.log(`aof_rewrites ${await info(c, 'aof_rewrites')}, keys ${describeReply(await c.send('DBSIZE'))}; ` +
    `logs ${atEnd} bytes as the benchmark ended`);
  c.destroy();
  line.step('stopping step 06');
  await first.stop();
  line.clear();
  const afterRun = logBytes();
  console.log(`logs after the run (rewrites ended, server stopped): ${afterRun} bytes in ` +
    `${readdirSync(dataDir).filter((n) => n.endsWith('.aof')).length} files`);

  // The restart, beside one on an empty folder: a Node process with tsx,
  // its pool threads and worker processes take their time to start whatever
  // the logs; the difference is the logs' cost.
  line.step('restarting step 06 on an empty folder, then on the logs');
  const empty = mkdtempSync(path.join(tmpdir(), 'kv-log-size-empty-'));
  let started = Date.now();
  const baseline = await launchStep('06', { args: ['--quiet', '--data-dir', empty] });
  const baselineMs = Date.now() - started;
  await baseline.stop();
  rmSync(empty, { recursive: true, force: true });
  started = Date.now();
  const second = await launchStep('06', { args: ['--quiet', '--data-dir', dataDir] });
  const restartMs = Date.now() - started;
  const replayed = /replayed .*/.exec(second.log())?.[0];
  line.clear();
  console.log(`restart: listening ${restartMs} ms after the start (on an empty folder: ${baselineMs} ms); ${replayed}`);
  const d = await Connection.open(second.host, second.port);
  line.step('BGREWRITEAOF: rewriting the logs');
  await d.send('BGREWRITEAOF');
  await untilNoRewrite(d, true);
  const live = Number(await info(d, 'aof_base_size'));
  d.destroy();
  await second.stop();
  line.clear();
  console.log(`live data (the logs rewritten, one record per key): ${live} bytes; ` +
    `the logs after the run were ${(afterRun / live).toFixed(2)}x that`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
