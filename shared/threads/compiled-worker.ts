import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';

// Starts Worker threads from a TypeScript file compiled once, for code that
// starts a thread per connection.
//
// start-worker.ts runs a .ts file in a Worker by registering tsx inside it.
// That is fine for a few long-lived threads, but on Node 20 each registration
// starts a second, hidden thread (the module loader's) and compiles on the
// way: measured here, a connection thread then costs 2 OS threads, about
// 28 MB and 260 ms to start. Compiling the file and everything it imports
// into one plain-JavaScript module once, when the server starts (esbuild,
// the compiler tsx itself uses, about 30 ms), halves that: 1 thread, about
// 14 MB, 130 ms (2 cores, busy machine; see steps/02-threads/README.md).
//
//   const connectionThread = await compileWorker(new URL('./connection-worker.ts', import.meta.url));
//   const worker = connectionThread.start({ storeBuffer });
//
// The compiled module runs from a data: URL, so the file must not rely on
// its own location (import.meta.url, relative paths to other files).

export interface CompiledWorker {
  /** Starts a new Worker thread running the compiled file. */
  start(workerData: unknown, options?: Omit<WorkerOptions, 'workerData'>): Worker;
  /** Size of the compiled module, in bytes. */
  readonly bytes: number;
}

export async function compileWorker(file: URL): Promise<CompiledWorker> {
  const result = await build({
    entryPoints: [fileURLToPath(file)],
    bundle: true, // the file and every module it imports, in one
    format: 'esm',
    platform: 'node', // node:* modules stay imports
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  await stop(); // esbuild compiles in a child process: end it, we are done
  const code = result.outputFiles[0]!.text;
  const url = new URL(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  return {
    bytes: code.length,
    start: (workerData, options = {}) => new Worker(url, { ...options, workerData }),
  };
}
