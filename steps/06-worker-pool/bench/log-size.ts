// The disk a long run leaves, and the restart it costs: step 06 with its
// default log rewrite policy, after a redis-benchmark run of SETs.
//
//   npx tsx steps/06-worker-pool/bench/log-size.ts [REDIS-BENCHMARK OPTIONS...]
//   npx tsx steps/06-worker-pool/bench/log-size.ts -t set -r 1000 -n 5000000 -P 16
//
// Step 06 runs as its README starts it (`npm run step -- 06`). Prints the
// logs' bytes on disk after the run, then restarts the server on them (the
// time from the spawn to each line of its start, and what it replayed),
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
import { ROOT } from '../../../shared/cli/steps.ts';
import { startByNpm, type Phases } from './servers.ts';

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

/** Waits until no rewrite runs or waits for its interval (and, with `one`, at least one has ended). */
async function untilNoRewrite(connection: Connection, one = false): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await info(connection, 'aof_rewrite_in_progress')) !== '0' || (await info(connection, 'aof_rewrite_scheduled')) !== '0' || (one && (await info(connection, 'aof_rewrites')) === '0')) {
    if (Date.now() > deadline) throw new Error('the rewrites did not end within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

try {
  line.step('starting step 06');
  const first = await startByNpm(ROOT, dataDir);
  line.clear();
  console.log(`$ redis-benchmark ${benchmarkArgs.join(' ')} -q   (against step 06, default rewrite policy)`);
  line.step('redis-benchmark against step 06', () => `logs ${logBytes()} bytes`);
  // (a child process run asynchronously: the event loop stays free for the line)
  const { stdout: out } = await promisify(execFile)('redis-benchmark', ['-p', String(first.port), ...benchmarkArgs, '-q'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  line.clear();
  console.log(out.split('\r').at(-1)!.trim());
  const c = await Connection.open('127.0.0.1', first.port);
  const atEnd = logBytes();
  // A rewrite may still run (it started before the last writes): let it end.
  line.step('waiting for a rewrite to end');
  await untilNoRewrite(c);
  line.clear();
  console.log(`aof_rewrites ${await info(c, 'aof_rewrites')}, keys ${describeReply(await c.send('DBSIZE'))}; ` +
    `logs ${atEnd} bytes as the benchmark ended`);
  c.destroy();
  line.step('stopping step 06');
  await first.shutdown();
  line.clear();
  const afterRun = logBytes();
  console.log(`logs after the run (rewrites ended, server stopped): ${afterRun} bytes in ` +
    `${readdirSync(dataDir).filter((n) => n.endsWith('.aof')).length} files`);

  // The restart, as the README starts the server (`npm run step -- 06`),
  // beside one on an empty folder: Node, the code, the pool threads and the
  // worker processes take their time whatever the logs; the difference is
  // the logs' cost. Each phase as start-time.ts shows it.
  line.step('restarting step 06 on an empty folder, then on the logs');
  const empty = mkdtempSync(path.join(tmpdir(), 'kv-log-size-empty-'));
  const baseline = await startByNpm(ROOT, empty);
  await baseline.shutdown();
  rmSync(empty, { recursive: true, force: true });
  const second = await startByNpm(ROOT, dataDir);
  const phases = (p: Phases) => `code loaded ${p.code} ms, replayed ${p.replayed} ms, worker processes ${p.workers} ms, listening ${p.listening} ms`;
  line.clear();
  console.log(`restart (npm run step -- 06): ${phases(second.phases)}; ${second.replayedLine}`);
  console.log(`  on an empty folder: ${phases(baseline.phases)}`);
  const d = await Connection.open('127.0.0.1', second.port);
  line.step('BGREWRITEAOF: rewriting the logs');
  await d.send('BGREWRITEAOF');
  await untilNoRewrite(d, true);
  const live = Number(await info(d, 'aof_base_size'));
  d.destroy();
  await second.shutdown();
  line.clear();
  console.log(`live data (the logs rewritten, one record per key): ${live} bytes; ` +
    `the logs after the run were ${(afterRun / live).toFixed(2)}x that`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
