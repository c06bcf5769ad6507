// `npm run loadgen -- --step 06,01 --clients 20 --seconds 10 [--redis] [--runs 2]`
//
// Compiles loadgen.c if needed (cc -O2, into node_modules/.cache/kv-course),
// starts each step on a free port (and, with --redis, a redis-server with no
// persistence), runs the seed's mixed workload against each one after the
// other, stops them, and prints one table next to the Python seed's figure.
// With --port instead of --step it measures a server you started yourself.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseOptions } from '../../shared/cli/options.ts';
import { ROOT } from '../../shared/cli/steps.ts';
import { launchStep, type RunningServer } from '../harness/launch.ts';
import { ProcessTreeMonitor } from '../proc-stats.ts';
import { median } from '../stats.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';
import { stepLine } from '../progress.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const { values: options } = parseOptions({
  step: {
    type: 'string', default: '',
    help: 'steps to start and measure, comma-separated; each may carry its own options: "06,06 --execute pool,01"',
  },
  redis: { type: 'boolean', default: false, help: 'also start redis-server (no persistence) and measure it' },
  port: { type: 'number', default: 0, min: 0, max: 65535, help: 'measure a server already running on this port instead' },
  host: { type: 'string', default: '127.0.0.1', help: 'its address (with --port)' },
  clients: { type: 'number', default: 20, min: 1, max: 10_000, help: 'connections, one request in flight each' },
  seconds: { type: 'number', default: 10, min: 0.1, help: 'seconds measured, after --warmup' },
  warmup: { type: 'number', default: 1, min: 0, help: 'seconds of load before measuring' },
  keys: { type: 'number', default: 1000, min: 1, help: 'key space' },
  runs: { type: 'number', default: 1, min: 1, max: 10, help: 'measure each server this many times (in turn)' },
  serverArgs: { type: 'string', default: '', help: 'extra options for the started steps, space-separated' },
} as const, 'npm run loadgen -- --step 06,01 [--redis] [options]');

const SEED_OPS = 20_000; // the Python seed, same workload and machine (docs/seed.md)
const SOURCE = path.join(ROOT, 'tester', 'loadgen', 'loadgen.c');
const BINARY = path.join(ROOT, 'node_modules', '.cache', 'kv-course', 'loadgen');

function compile(): void {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  mkdirSync(path.dirname(BINARY), { recursive: true });
  const cc = ['cc', 'gcc', 'clang'].find((name) => {
    try {
      execFileSync(name, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (cc === undefined) throw new Error('no C compiler (cc, gcc or clang) found: install one to use loadgen');
  execFileSync(cc, ['-O2', '-Wall', '-o', BINARY, SOURCE], { stdio: 'inherit' });
}

interface Result {
  requests: number; seconds: number; ops: number; p50: number; p90: number; p99: number; p999: number; max: number; errors: number;
}

/** Runs the C load client (a child process: the event loop stays free for the progress line). */
function measure(host: string, port: number, dialect: 'native' | 'redis'): Promise<Result> {
  const child = spawn(BINARY, [
    '--host', host, '--port', String(port), '--clients', String(options.clients), '--seconds', String(options.seconds),
    '--warmup', String(options.warmup), '--keys', String(options.keys), '--dialect', dialect, '--json',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(JSON.parse(out) as Result);
      else reject(new Error(`loadgen failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** Starts redis-server on a free port with persistence off; resolves when it accepts connections. */
async function startRedis(): Promise<{ port: number; pid: number; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/Ready to accept connections/.test(line)) resolve();
    });
  });
  return { port, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

const progress = stepLine(); // the progress line, on stderr (tester/progress.ts)
progress.step('compiling loadgen.c if needed');
compile();
interface Target {
  name: string; host: string; port: number; dialect: 'native' | 'redis'; stop: () => Promise<unknown>;
  /** The server's process, when we started it: its CPU time is measured too. */
  pid?: number;
}
const targets: Target[] = [];
const dataDirs: string[] = [];
if (options.port > 0) {
  targets.push({ name: `${options.host}:${options.port}`, host: options.host, port: options.port, dialect: 'native', stop: async () => {} });
}
for (const item of options.step.split(',').map((text) => text.trim()).filter(Boolean)) {
  const [step, ...own] = item.split(/\s+/);
  progress.step(`starting step ${item}`);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'loadgen-'));
  dataDirs.push(dataDir);
  const args = ['--quiet', ...(Number(step) >= 4 ? ['--data-dir', dataDir] : []), ...options.serverArgs.split(' ').filter(Boolean), ...own];
  const server: RunningServer = await launchStep(step!, { args });
  targets.push({ name: `step ${item}`, host: server.host, port: server.port, dialect: 'native', stop: () => server.stop(), pid: server.child.pid! });
}
if (options.redis) {
  progress.step('starting redis-server');
  const redis = await startRedis();
  targets.push({ name: 'redis-server', host: '127.0.0.1', port: redis.port, dialect: 'redis', stop: async () => redis.stop(), pid: redis.pid });
}
progress.clear();
if (targets.length === 0) {
  console.error('nothing to measure: give --step, --redis or --port');
  process.exit(2);
}

console.log(`mixed workload (50% GET, 25% PUT, 15% POST, 10% DELETE), ${options.clients} clients, ` +
  `one request in flight each, ${options.seconds} s after ${options.warmup} s of warm-up, C load client:`);
const rows: string[][] = [];
for (let run = 1; run <= options.runs; run++) {
  for (const target of targets) {
    const monitor = target.pid !== undefined && ProcessTreeMonitor.available() ? new ProcessTreeMonitor(target.pid) : null;
    monitor?.start(500);
    progress.step(`loadgen run ${run}/${options.runs} against ${target.name} (${options.warmup} s of warm-up, then ${options.seconds} s)`);
    const r = await measure(target.host, target.port, target.dialect);
    progress.clear();
    // CPU of the server and its processes over warm-up and measurement, per request measured
    // (an estimate: the warm-up's requests are not counted, so it errs high by warmup/seconds).
    const cpu = monitor?.stop();
    const cpuUs = cpu ? ((cpu.cpuSeconds * options.seconds) / (options.seconds + options.warmup) / r.requests) * 1e6 : NaN;
    rows.push([
      target.name, String(run), r.ops.toFixed(0), (r.ops / SEED_OPS).toFixed(2),
      r.p50.toFixed(3), r.p99.toFixed(3), r.max.toFixed(1), Number.isNaN(cpuUs) ? '-' : cpuUs.toFixed(1),
    ]);
    console.error(`  measured ${target.name} (run ${run}): ${r.ops.toFixed(0)} ops/s`);
  }
}
progress.step('stopping the servers');
for (const target of targets) await target.stop();
progress.clear();
for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });

const header = ['server', 'run', 'ops/s', 'x seed', 'p50 ms', 'p99 ms', 'max ms', 'server CPU us/op'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
if (options.runs > 1) {
  // This machine's speed drifts from second to second: a median over the
  // runs says more than any one run. Against step 01 when it was measured.
  const medianOps = (name: string) => median(rows.filter((row) => row[0] === name).map((row) => Number(row[2])));
  const reference = targets.find((target) => target.name === 'step 01');
  console.log(`median of ${options.runs} runs:`);
  for (const target of targets) {
    const ops = medianOps(target.name);
    const versus = reference ? `  ${(ops / medianOps(reference.name)).toFixed(2)}x step 01` : '';
    console.log(`${target.name.padEnd(widths[0]!)}  ${ops.toFixed(0).padStart(7)} ops/s  ${(ops / SEED_OPS).toFixed(2)}x seed${versus}`);
  }
}
console.log(`(x seed: against the Python seed's ${SEED_OPS} ops/s on this workload, docs/seed.md;`);
console.log(' server CPU us/op: CPU time of the server and its processes per request, all cores together)');
