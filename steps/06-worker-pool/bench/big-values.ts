// Big data through step 06: the loads of issue 16 that steps 02-05's fixed
// table refuses, and a 100 MB value through redis-cli.
//
//   npx tsx steps/06-worker-pool/bench/big-values.ts
//
// 1. redis-benchmark -r 1000000 -n 2000000 -t set -d 1000   (~865,000 keys of 1 KB)
// 2. redis-benchmark -r 10000 -n 20000 -t set -d 100000     (~8,600 keys of 100 KB)
//    each must end with no error reply; then DBSIZE and INFO's memory lines.
// 3. A 100 MB random value: `redis-cli -x SET big < file`, then
//    `redis-cli GET big`, compared byte for byte; meanwhile another client
//    sends PING after PING, and the slowest answer is shown (the event loop
//    parses the 100 MB as it arrives, so the others wait at most for one
//    read's copy, not for the whole value).
// Each on a fresh step 06 with its own data folder (logs included: the
// writes are persisted as usual), started as `npm start` starts it.
//
//   npx tsx steps/06-worker-pool/bench/big-values.ts 100mb [RUNS] [--before DIR] [--redis]
//
// only the 100 MB SET, RUNS times (default 1), with the PINGs' max and p99;
// with --before, in turn with the step 06 of another tree (a `git archive` of
// an older commit, with node_modules), and the medians of each; with
// --redis, in turn with a redis-server (no persistence) too: the yardstick
// for how long a real server makes the other clients wait meanwhile.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '../../../shared/client/connection.ts';
import { launchServer, launchStep } from '../../../tester/harness/launch.ts';
import { startRedis } from './servers.ts';
import { stepLine } from '../../../tester/progress.ts';

const onlyBig = process.argv[2] === '100mb';
const beforeAt = process.argv.indexOf('--before');
const beforeTree = beforeAt > 0 ? process.argv[beforeAt + 1] : undefined;
const withRedis = process.argv.includes('--redis');
const runs = onlyBig && /^\d+$/.test(process.argv[3] ?? '') ? Number(process.argv[3]) : 1;

const scratch = mkdtempSync(path.join(tmpdir(), 'kv-big-'));
const line = stepLine(); // the progress line, on stderr (tester/progress.ts)

async function fresh(tree?: string) {
  // With the allocator setting npm start uses (see tester/course/run-step.ts).
  const options = { args: ['--quiet', '--data-dir', mkdtempSync(path.join(scratch, 'data-'))], env: { MALLOC_MMAP_THRESHOLD_: '131072' } };
  return tree === undefined ? launchStep('06', options) : launchServer(path.resolve(tree, 'steps/06-worker-pool/server.ts'), options);
}

function infoLines(port: number, pattern: RegExp): string {
  const text = execFileSync('redis-cli', ['-p', String(port), 'INFO'], { encoding: 'utf8' });
  return text.split(/\r?\n/).filter((line) => pattern.test(line)).join(' ');
}

/** A fresh redis-server, with the shape of a launched step. */
async function freshRedis() {
  const redis = await startRedis();
  return { host: '127.0.0.1', port: redis.port, stop: async () => redis.stop() };
}

/** One 100 MB SET and GET on a fresh server (of `tree`, this one, or redis-server), another client PINGing meanwhile. */
async function bigValue(tree?: string): Promise<{ slowest: number; p99: number }> {
  const name = tree ?? 'this tree';
  line.step(`100 MB value, ${name}: starting the server`);
  const server = tree === 'redis-server' ? await freshRedis() : await fresh(tree);
  line.step(`100 MB value, ${name}: writing a file of 100 MB of random bytes`);
  const value = randomBytes(100 * 1024 * 1024);
  const file = path.join(scratch, 'value.bin');
  writeFileSync(file, value);
  const pinger = await Connection.open(server.host, server.port);
  const pingMs: number[] = [];
  let pinging = true;
  const pingLoop = (async () => {
    while (pinging) {
      const sent = performance.now();
      await pinger.send('PING');
      pingMs.push(performance.now() - sent);
    }
  })();
  line.step(`100 MB value, ${name}: redis-cli -x SET big`, () => `${pingMs.length} PINGs answered`);
  const setStarted = performance.now();
  const setReply = await new Promise<string>((resolve, reject) => {
    const cli = spawn('redis-cli', ['-p', String(server.port), '-x', 'SET', 'big'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    cli.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
    cli.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`redis-cli exited ${code}`))));
    createReadStream(file).pipe(cli.stdin);
  });
  const setMs = performance.now() - setStarted;
  pinging = false;
  await pingLoop;
  line.step(`100 MB value, ${name}: redis-cli GET big`); // (execFileSync: the line is not redrawn until it returns)
  const getStarted = performance.now();
  const back = execFileSync('redis-cli', ['-p', String(server.port), 'GET', 'big'], { maxBuffer: 200 * 1024 * 1024 });
  const getMs = performance.now() - getStarted;
  const same = back.length === value.length + 1 && back.subarray(0, value.length).equals(value);
  pingMs.sort((a, b) => a - b);
  const slowest = pingMs.at(-1) ?? 0;
  const p99 = pingMs[Math.floor(pingMs.length * 0.99)] ?? 0;
  line.clear();
  console.log(`${tree === undefined ? '' : `${tree}: `}100 MB value: SET ${setReply} in ${setMs.toFixed(0)} ms (another client's ${pingMs.length} PINGs meanwhile, ` +
    `the slowest ${slowest.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms); GET in ${getMs.toFixed(0)} ms, ${same ? 'byte for byte the same' : 'DIFFERENT BYTES'}`);
  console.log(`  ${infoLines(server.port, /^(used_memory_human|used_memory_peak_human|used_memory_rss_human):/)}`);
  await pinger.close();
  await server.stop();
  return { slowest, p99 };
}

for (const args of onlyBig ? [] : [['-r', '1000000', '-n', '2000000', '-t', 'set', '-d', '1000'], ['-r', '10000', '-n', '20000', '-t', 'set', '-d', '100000']]) {
  line.step(`redis-benchmark ${args.join(' ')}: starting step 06`);
  const server = await fresh();
  const started = Date.now();
  let out: string;
  // Run without blocking the event loop, so that the progress line keeps its seconds.
  line.step(`redis-benchmark ${args.join(' ')}`);
  try {
    out = (await promisify(execFile)('redis-benchmark', ['-p', String(server.port), ...args, '-q'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (caught) {
    throw new Error(`redis-benchmark ${args.join(' ')} failed: ${(caught as { stderr?: string }).stderr ?? caught}`);
  }
  line.clear();
  const errors = /error/i.test(out) ? 'ERROR REPLIES' : 'no error reply';
  const rate = /SET: ([\d.]+) requests per second/.exec(out)?.[1] ?? '?';
  console.log(`redis-benchmark ${args.join(' ')}: ${errors}, ${rate} SET/s, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`  DBSIZE ${execFileSync('redis-cli', ['-p', String(server.port), 'DBSIZE'], { encoding: 'utf8' }).trim()}; ` +
    infoLines(server.port, /^(used_memory_human|used_memory_rss_human|store_fragmentation_ratio):/));
  await server.stop();
}

const figures = new Map<string, Array<{ slowest: number; p99: number }>>();
for (let run = 0; run < runs; run++) {
  const trees = [...(beforeTree === undefined ? [] : [beforeTree]), undefined, ...(withRedis ? ['redis-server'] : [])];
  for (const tree of trees) {
    const label = tree ?? 'this tree';
    figures.set(label, [...(figures.get(label) ?? []), await bigValue(tree)]);
  }
}
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
if (runs > 1 || beforeTree !== undefined || withRedis) {
  for (const [label, list] of figures) {
    console.log(`${label}: median of ${list.length}: slowest PING ${median(list.map((f) => f.slowest)).toFixed(1)} ms, p99 ${median(list.map((f) => f.p99)).toFixed(1)} ms`);
  }
}
rmSync(scratch, { recursive: true, force: true });
