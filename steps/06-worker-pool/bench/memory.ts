// Memory: how much the resident memory (RSS) of step 06 and of redis-server
// grows when each holds the same data, side by side in one run.
//
//   npx tsx steps/06-worker-pool/bench/memory.ts [RUNS]
//
// Two loads, each on a freshly started server:
//   million  one million keys of 16 bytes (key:000000000000) with values of
//            100 bytes, sent with `redis-cli --pipe`;
//   60k      `redis-benchmark -t set -r 60000 -n 300000 -P 16` (3-byte values,
//            about 59,600 distinct keys), the load of issue 16.
// For each, three readings of the server's RSS: `fresh`, once it has started
// (and its RSS has stopped moving: step 06's pool threads start after it
// listens); `warm`, after a warm-up of the same redis-benchmark SET load on
// 10 keys that are then deleted (what serving costs, without data: for Node,
// mostly the young generation of its heap, which grows under load to 2 x 16
// MB and stays); and `after`, after the load. Then the growth from fresh and
// from warm, DBSIZE, and step 06's growth as a multiple of redis-server's.
// Step 06 is its event-loop process (the store lives there; the worker
// processes only append to their logs, and are shown apart). Runs alternate
// the servers; with RUNS > 1 the summary gives medians.

import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchStep } from '../../../tester/harness/launch.ts';
import { median, rssMb, startRedis } from './servers.ts';

const runs = Number(process.argv[2] ?? 1);
const scratch = mkdtempSync(path.join(tmpdir(), 'kv-memory-'));

// The million keys as one RESP stream, written once.
const millionFile = path.join(scratch, 'million.resp');
{
  const value = Buffer.alloc(100);
  for (let k = 0; k < 100; k++) value[k] = 97 + (k % 26);
  const parts: Buffer[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const key = `key:${String(i).padStart(12, '0')}`;
    parts.push(Buffer.from(`*3\r\n$3\r\nSET\r\n$16\r\n${key}\r\n$100\r\n`), value, Buffer.from('\r\n'));
  }
  writeFileSync(millionFile, Buffer.concat(parts));
}

const loads: Record<string, (port: number) => void> = {
  million: (port) => {
    const out = execSync(`redis-cli -p ${port} --pipe < ${millionFile}`, { encoding: 'utf8' });
    if (!/errors: 0, replies: 1000000/.test(out)) throw new Error(`redis-cli --pipe: ${out}`);
  },
  '60k': (port) => {
    const out = execFileSync('redis-benchmark', ['-p', String(port), '-t', 'set', '-r', '60000', '-n', '300000', '-P', '16', '-q'], { encoding: 'utf8' });
    if (/error/i.test(out)) throw new Error(`redis-benchmark: ${out}`);
  },
};

/** RSS once it stops moving (two readings 500 ms apart within 1 MB), at most 10 s. */
async function settledRss(pid: number): Promise<number> {
  let last = rssMb(pid);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = rssMb(pid);
    if (Math.abs(now - last) < 1) return now;
    last = now;
  }
  return last;
}

/** The warm-up: the SET load on 10 keys, which are then deleted. */
function warmUp(port: number): void {
  execFileSync('redis-benchmark', ['-p', String(port), '-t', 'set', '-r', '10', '-n', '300000', '-P', '16', '-q'], { encoding: 'utf8' });
  const keys = Array.from({ length: 10 }, (_, i) => `key:${String(i).padStart(12, '0')}`);
  execFileSync('redis-cli', ['-p', String(port), 'DEL', ...keys]);
}

const dbsize = (port: number) => Number(execFileSync('redis-cli', ['-p', String(port), 'DBSIZE'], { encoding: 'utf8' }).trim());

interface Figures { fresh: number; warm: number; after: number; keys: number; workers?: number }

async function measureStep06(load: string): Promise<Figures> {
  const dataDir = mkdtempSync(path.join(scratch, 'data-'));
  const server = await launchStep('06', { args: ['--quiet', '--data-dir', dataDir] });
  const workerPids = /worker processes: ([\d, ]+)/.exec(server.log())![1]!.split(',').map((pid) => Number(pid.trim()));
  const pid = server.child.pid!;
  const fresh = await settledRss(pid);
  warmUp(server.port);
  const warm = await settledRss(pid);
  const workersBefore = workerPids.reduce((sum, p) => sum + rssMb(p), 0);
  loads[load]!(server.port);
  const keys = dbsize(server.port);
  const after = rssMb(pid);
  const workers = workerPids.reduce((sum, p) => sum + rssMb(p), 0) - workersBefore;
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return { fresh, warm, after, keys, workers };
}

async function measureRedis(load: string): Promise<Figures> {
  const redis = await startRedis();
  const fresh = await settledRss(redis.pid);
  warmUp(redis.port);
  const warm = await settledRss(redis.pid);
  loads[load]!(redis.port);
  const keys = dbsize(redis.port);
  const after = rssMb(redis.pid);
  redis.stop();
  return { fresh, warm, after, keys };
}

const growth: Record<string, number[]> = {};
const mb = (n: number) => n.toFixed(1).padStart(6);
console.log('RSS in MB: fresh, warm, after the load; growth from fresh and from warm');
for (let run = 1; run <= runs; run++) {
  for (const load of Object.keys(loads)) {
    // Alternate which server goes first: the machine's state drifts.
    const order = run % 2 === 1 ? ['step 06', 'redis-server'] : ['redis-server', 'step 06'];
    const figures: Record<string, Figures> = {};
    for (const name of order) figures[name] = name === 'step 06' ? await measureStep06(load) : await measureRedis(load);
    for (const [name, f] of Object.entries(figures)) {
      const extra = f.workers === undefined ? '' : `   (worker processes +${f.workers.toFixed(1)})`;
      console.log(`run ${run} ${load.padEnd(8)} ${name.padEnd(13)} ${mb(f.fresh)} ${mb(f.warm)} ${mb(f.after)}   ` +
        `+${mb(f.after - f.fresh)} +${mb(f.after - f.warm)}   keys ${f.keys}${extra}`);
    }
    for (const from of ['fresh', 'warm'] as const) {
      const g06 = figures['step 06']!.after - figures['step 06']![from];
      const gRedis = figures['redis-server']!.after - figures['redis-server']![from];
      console.log(`run ${run} ${load.padEnd(8)} growth from ${from}: step 06 ${(g06 / gRedis).toFixed(2)}x redis-server`);
      (growth[`${load} ${from} step 06`] ??= []).push(g06);
      (growth[`${load} ${from} redis-server`] ??= []).push(gRedis);
    }
  }
}
if (runs > 1) {
  for (const load of Object.keys(loads)) {
    for (const from of ['fresh', 'warm']) {
      const g06 = median(growth[`${load} ${from} step 06`]!);
      const gRedis = median(growth[`${load} ${from} redis-server`]!);
      console.log(`median of ${runs} runs, ${load}, growth from ${from}: step 06 +${g06.toFixed(1)} MB, redis-server +${gRedis.toFixed(1)} MB: ${(g06 / gRedis).toFixed(2)}x`);
    }
  }
}
rmSync(scratch, { recursive: true, force: true });
