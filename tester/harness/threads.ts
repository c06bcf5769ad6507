import type { Worker } from 'node:worker_threads';
import { startWorker } from './start-worker.ts';

// Helpers for tests that use real Worker threads.

/** Starts `file` as a Worker and resolves with the first message it posts. */
export function runWorker<T>(file: URL, workerData: unknown): Promise<T> {
  return settle<T>(startWorker(file, workerData));
}

/** The first message `worker` posts; rejects if it fails or exits first. */
export function settle<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited (code ${code}) without a result`)));
  });
}

/**
 * A start line for `parties` threads over `memory[index]` (which starts at 0):
 * each thread calls it and none returns before all have arrived, so the
 * threads really run their loops at the same time instead of one after another
 * (a Worker takes a few hundred milliseconds to start).
 */
export function barrier(memory: Int32Array, index: number, parties: number): void {
  Atomics.add(memory, index, 1);
  Atomics.notify(memory, index);
  for (;;) {
    const arrived = Atomics.load(memory, index);
    if (arrived >= parties) return;
    Atomics.wait(memory, index, arrived);
  }
}
