import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { parseOptions } from '../../shared/cli/options.ts';
import { stepLine } from '../progress.ts';
import { HAVE_PROC, memoryBytes } from '../../shared/os/proc.ts';

// What a bare worker_threads Worker costs, before any code of ours runs in it:
//
//   npx tsx tester/bench/worker-cost.ts --threads 20
//
// Starts the threads one after another, each from a one-line plain-JavaScript
// program that posts a message as soon as it runs; times each from `new
// Worker` to that message, and reads this process's resident memory (VmRSS)
// before the first and with all of them running. A connection thread of
// steps 02-05 costs more than this: it loads the course's code as well
// (tester/bench/connection-threads.ts measures that).

const { values: options } = parseOptions({
  threads: { type: 'number', default: 20, min: 1, max: 200, help: 'threads to start, one after another' },
} as const, 'npx tsx tester/bench/worker-cost.ts [options]');

const rssMb = () => memoryBytes('self', 'VmRSS')! / 1048576; // Linux: checked at the start

// Each thread says it runs, then waits until we end it (a listener on its port keeps
// its event loop alive; without one it would exit at once, and free its memory).
const program = "const { parentPort } = require('node:worker_threads');" +
  " parentPort.on('message', () => {}); parentPort.postMessage('running');";
if (!HAVE_PROC) {
  console.error('this benchmark reads memory from /proc: it runs on Linux only');
  process.exit(2);
}
const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
const before = rssMb();
const threads: Worker[] = [];
const times: number[] = [];
try {
  for (let i = 0; i < options.threads; i++) {
    line.step(`thread ${i + 1}/${options.threads}`);
    const start = performance.now();
    const thread = new Worker(program, { eval: true });
    threads.push(thread);
    await new Promise<void>((resolve, reject) => {
      thread.once('message', () => resolve());
      thread.once('error', reject);
    });
    times.push(performance.now() - start);
  }
  const after = rssMb();
  line.clear();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
  console.log(`${options.threads} bare Workers started one after another`);
  console.log(`  new Worker -> first message   median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`);
  console.log(`  memory (VmRSS)                ${before.toFixed(1)} MB before, ${after.toFixed(1)} MB with ` +
    `${options.threads}: ${((after - before) / options.threads).toFixed(1)} MB per thread`);
} finally {
  await Promise.all(threads.map((t) => t.terminate()));
}
