import { performance } from 'node:perf_hooks';
import { parseOptions } from '../../shared/cli/options.ts';
import { Connection } from '../../shared/client/connection.ts';
import { launchStep } from '../harness/launch.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';
import { stepLine } from '../progress.ts';
import { HAVE_PROC, memoryBytes } from '../../shared/os/proc.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

// What a thread per connection costs, and what it buys. Two measurements:
//
//   npx tsx tester/bench/connection-threads.ts --step 02 --connections 50
//     start-up and memory: opens connections one at a time, times each from
//     connect to its first PONG (the thread must start before it can answer),
//     and reads the server's resident memory (VmRSS) before and after.
//
//   npx tsx tester/bench/connection-threads.ts --step 01 --stall 2000
//     the stall: one client sends WORK 2000; 100 ms later another sends PING.
//     Prints how long the PING took (step 01: about the rest of the WORK).
//
// Each run starts its own server on a free port and stops it afterwards.

const { values: options } = parseOptions({
  step: { type: 'string', default: '02', help: 'the step to measure' },
  connections: { type: 'number', default: 50, min: 1, max: 1000, help: 'connections to open (start-up and memory)' },
  stall: { type: 'number', default: 0, min: 0, max: 10_000, help: 'measure the stall instead: WORK this many ms' },
  serverArgs: { type: 'string', default: '', help: 'extra server arguments, space-separated' },
} as const, 'npx tsx tester/bench/connection-threads.ts [options]');

// Step 01 has no connection limit (it is one of its exercises).
if (!HAVE_PROC) {
  console.error('this benchmark reads memory from /proc: it runs on Linux only');
  process.exit(2);
}
const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
line.step(`starting step ${options.step}`);
const limit = /^0?1(-|$)/.test(options.step) ? [] : ['--max-connections', '1000'];
const server = await launchStep(options.step, {
  args: ['--quiet', ...limit, ...options.serverArgs.split(' ').filter(Boolean)],
});
try {
  if (options.stall > 0) await stall(options.stall);
  else await startUpAndMemory(options.connections);
} finally {
  await server.stop();
}

async function startUpAndMemory(count: number): Promise<void> {
  const first = await Connection.open(server.host, server.port);
  await first.send('PING');
  const before = rssMb();
  const times: number[] = [];
  const open: Connection[] = [first];
  for (let i = 0; i < count; i++) {
    line.step(`connection ${i + 1}/${count} to step ${options.step}`);
    const start = performance.now();
    const c = await Connection.open(server.host, server.port);
    await c.send('PING');
    times.push(performance.now() - start);
    open.push(c);
  }
  const after = rssMb();
  line.clear();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
  console.log(`step ${options.step}: ${count} connections opened one after another`);
  console.log(`  connect -> first PONG   median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`);
  console.log(`  server memory (VmRSS)   ${before.toFixed(1)} MB with 1 connection, ` +
    `${after.toFixed(1)} MB with ${count + 1}: ${((after - before) / count).toFixed(1)} MB per connection`);
  await Promise.all(open.map((c) => c.close()));
}

async function stall(workMs: number): Promise<void> {
  const busy = await Connection.open(server.host, server.port);
  const other = await Connection.open(server.host, server.port);
  await Promise.all([busy.send('PING'), other.send('PING')]); // both connections ready
  line.step(`WORK ${workMs} on step ${options.step}, and a PING 100 ms into it`);
  const workStart = performance.now();
  const work = busy.send('WORK', String(workMs)).then(() => performance.now() - workStart);
  await new Promise((resolve) => setTimeout(resolve, 100)); // let the WORK start
  const pingStart = performance.now();
  await other.send('PING');
  const pingMs = performance.now() - pingStart;
  const workMsTaken = await work;
  line.clear();
  console.log(`step ${options.step}: WORK ${workMs} took ${workMsTaken.toFixed(0)} ms; ` +
    `a PING sent 100 ms into it took ${pingMs.toFixed(1)} ms`);
  await Promise.all([busy.close(), other.close()]);
}

function rssMb(): number {
  return memoryBytes(server.child.pid!, 'VmRSS')! / 1048576; // Linux: checked at the start
}
