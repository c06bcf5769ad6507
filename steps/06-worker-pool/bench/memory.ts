// Memory: how much the resident memory (RSS) of step 06 and of redis-server
// grows when each holds the same data, side by side in one run.
//
//   npx tsx steps/06-worker-pool/bench/memory.ts [RUNS] [--before DIR] [--load million|60k]
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
// MB and stays); `after`, the moment the load ends; and `rest`, once the
// server has been left alone after it: at least 34 s, then until two
// readings 1 s apart are within 0.5 MB, at most 45 s (the same wait for
// both servers; step 06's event-loop process runs its idle collections 30 s
// and 32 s into the quiet, its worker processes 1 s and 8 s,
// shared/server/idle-compaction.ts). Then the growth from fresh and
// from warm, at the end and at rest, DBSIZE, and step 06's growth as a
// multiple of redis-server's. The growth at rest is what holding the data
// costs; at the end, what serving the load did too. (From warm, only at
// the end: `warm` is read with the young generation a load grew, which the
// rest gives back, so growth from warm to rest would say less than nothing.)
// Step 06 is started as its README says (`npm run step -- 06`), and its RSS
// is that of every process of the server: the event-loop process (the store
// and the pool threads live there) plus its worker processes (the
// event-loop process's share is shown apart); npm and the launcher that
// started it are not the server. redis-server is its one process (its
// background threads are in it). --before DIR adds step 06 as the checkout
// in DIR has it (a copy of an earlier commit with node_modules linked in).
// Runs alternate the servers; with RUNS > 1 the summary gives medians.

import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../../../shared/cli/steps.ts';
import { stepLine } from '../../../tester/progress.ts';
import { median, rssMb, startByNpm, startRedis } from './servers.ts';

const beforeAt = process.argv.indexOf('--before');
const beforeDir = beforeAt > 0 ? path.resolve(process.argv[beforeAt + 1]!) : undefined;
const loadAt = process.argv.indexOf('--load');
const onlyLoad = loadAt > 0 ? process.argv[loadAt + 1] : undefined;
const runs = Number(process.argv.slice(2).find((arg, i, all) => /^\d+$/.test(arg) && all[i - 1] !== '--before') ?? 1);
const line = stepLine();
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

const allLoads: Record<string, (port: number) => void> = {
  million: (port) => {
    const out = execSync(`redis-cli -p ${port} --pipe < ${millionFile}`, { encoding: 'utf8' });
    if (!/errors: 0, replies: 1000000/.test(out)) throw new Error(`redis-cli --pipe: ${out}`);
  },
  '60k': (port) => {
    const out = execFileSync('redis-benchmark', ['-p', String(port), '-t', 'set', '-r', '60000', '-n', '300000', '-P', '16', '-q'], { encoding: 'utf8' });
    if (/error/i.test(out)) throw new Error(`redis-benchmark: ${out}`);
  },
};

const loads = Object.fromEntries(Object.entries(allLoads).filter(([name]) => onlyLoad === undefined || name === onlyLoad));
if (Object.keys(loads).length === 0) throw new Error(`--load: million or 60k, not ${onlyLoad}`);

/** The RSS of these processes, added up, in MB. */
const totalRss = (pids: number[]) => pids.reduce((sum, pid) => sum + rssMb(pid), 0);

/** RSS once it stops moving (two readings 500 ms apart within 1 MB), at most 10 s. */
async function settledRss(pids: number[]): Promise<number> {
  let last = totalRss(pids);
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = totalRss(pids);
    if (Math.abs(now - last) < 1) return now;
    last = now;
  }
  return last;
}

/** RSS at rest: read every second, at least 34 s, then until two readings are within 0.5 MB; at most 45 s. */
async function restingRss(pids: number[]): Promise<number> {
  let last = totalRss(pids);
  for (let second = 1; second <= 45; second++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = totalRss(pids);
    if (second >= 34 && Math.abs(now - last) < 0.5) return now;
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

interface Figures { fresh: number; warm: number; after: number; rest: number; keys: number; eventLoop?: number; eventLoopRest?: number }

async function measureStep06(load: string, checkout: string): Promise<Figures> {
  const dataDir = mkdtempSync(path.join(scratch, 'data-'));
  const server = await startByNpm(checkout, dataDir);
  const { server: pid, workers } = server.pids();
  const pids = [pid, ...workers];
  const fresh = await settledRss(pids);
  const eventLoopFresh = rssMb(pid);
  warmUp(server.port);
  const warm = await settledRss(pids);
  loads[load]!(server.port);
  const keys = dbsize(server.port);
  const after = totalRss(pids);
  const eventLoop = rssMb(pid) - eventLoopFresh;
  const rest = await restingRss(pids);
  const eventLoopRest = rssMb(pid) - eventLoopFresh;
  await server.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
  return { fresh, warm, after, rest, keys, eventLoop, eventLoopRest };
}

async function measureRedis(load: string): Promise<Figures> {
  const redis = await startRedis();
  const fresh = await settledRss([redis.pid]);
  warmUp(redis.port);
  const warm = await settledRss([redis.pid]);
  loads[load]!(redis.port);
  const keys = dbsize(redis.port);
  const after = rssMb(redis.pid);
  const rest = await restingRss([redis.pid]);
  redis.stop();
  return { fresh, warm, after, rest, keys };
}

const servers: Record<string, () => (load: string) => Promise<Figures>> = {
  'step 06': () => (load) => measureStep06(load, ROOT),
  ...(beforeDir === undefined ? {} : { 'step 06 before': () => (load: string) => measureStep06(load, beforeDir) }),
  'redis-server': () => measureRedis,
};
const step06s = Object.keys(servers).filter((name) => name !== 'redis-server');

const growth: Record<string, number[]> = {};
const mb = (n: number) => n.toFixed(1).padStart(6);
const WHEN = { end: 'after', rest: 'rest' } as const;
console.log('RSS in MB (step 06: every process of the server): fresh, warm, at the end of the load, at rest; growth from fresh at the end / at rest, from warm at the end');
for (let run = 1; run <= runs; run++) {
  for (const load of Object.keys(loads)) {
    // Alternate which server goes first: the machine's state drifts.
    const order = run % 2 === 1 ? Object.keys(servers) : Object.keys(servers).reverse();
    const figures: Record<string, Figures> = {};
    for (const name of order) {
      line.step(`run ${run}/${runs}, ${load}: ${name}`);
      figures[name] = await servers[name]!()(load);
    }
    line.clear();
    for (const [name, f] of Object.entries(figures)) {
      const extra = f.eventLoop === undefined ? '' : `   (of the growth from fresh, the event-loop process +${f.eventLoop.toFixed(1)} / +${f.eventLoopRest!.toFixed(1)})`;
      console.log(`run ${run} ${load.padEnd(8)} ${name.padEnd(15)} ${mb(f.fresh)} ${mb(f.warm)} ${mb(f.after)} ${mb(f.rest)}   ` +
        `+${mb(f.after - f.fresh)} / +${mb(f.rest - f.fresh)}   +${mb(f.after - f.warm)}   keys ${f.keys}${extra}`);
    }
    for (const from of ['fresh', 'warm'] as const) {
      for (const [when, field] of Object.entries(WHEN)) {
        if (from === 'warm' && when === 'rest') continue; // (warm is a reading with the young generation grown: below rest)
        const gRedis = figures['redis-server']![field] - figures['redis-server']![from];
        (growth[`${load} ${from} ${when} redis-server`] ??= []).push(gRedis);
        for (const name of step06s) {
          const g06 = figures[name]![field] - figures[name]![from];
          console.log(`run ${run} ${load.padEnd(8)} growth from ${from}, at ${when}: ${name} ${(g06 / gRedis).toFixed(2)}x redis-server`);
          (growth[`${load} ${from} ${when} ${name}`] ??= []).push(g06);
        }
      }
    }
  }
}
if (runs > 1) {
  for (const load of Object.keys(loads)) {
    for (const from of ['fresh', 'warm']) {
      for (const when of Object.keys(WHEN)) {
        if (from === 'warm' && when === 'rest') continue;
        const gRedis = median(growth[`${load} ${from} ${when} redis-server`]!);
        for (const name of step06s) {
          const g06 = median(growth[`${load} ${from} ${when} ${name}`]!);
          console.log(`median of ${runs} runs, ${load}, growth from ${from}, at ${when}: ${name} +${g06.toFixed(1)} MB, redis-server +${gRedis.toFixed(1)} MB: ${(g06 / gRedis).toFixed(2)}x`);
        }
      }
    }
  }
}
rmSync(scratch, { recursive: true, force: true });
