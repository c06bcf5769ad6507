import { Worker, type WorkerOptions } from 'node:worker_threads';

// Starts a Worker thread that runs a TypeScript file, for the tests and the
// benchmarks. (The servers start theirs from plain-JavaScript bundles instead:
// shared/threads/bundle.ts.)
//
// Why a helper: tsx 4 does not register itself inside worker threads on
// Node 20, so `new Worker('x.ts')` fails there ("Unknown file extension").
// Every Worker therefore starts in a tiny plain-JavaScript bootstrap
// (tsx-bootstrap.mjs) that registers tsx first and then imports the .ts file.
//
// The target travels as an extra argv entry that the bootstrap removes again,
// so the .ts file sees its own `workerData` and `process.argv` untouched.
//
//   const worker = startWorker(new URL('./counter-worker.ts', import.meta.url), { sab });

const bootstrap = new URL('./tsx-bootstrap.mjs', import.meta.url);

export function startWorker(
  file: URL,
  workerData?: unknown,
  options: Omit<WorkerOptions, 'workerData' | 'argv'> = {},
): Worker {
  return new Worker(bootstrap, { ...options, workerData, argv: [file.href] });
}
