import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedStore } from './shared-store.ts';
import { Mutex } from '../locks/mutex.ts';

// The Worker side of the multi-thread test in shared-store.test.ts: wraps the
// shared buffer, then, under the mutex kept in the store's own lockWords,
// increments one shared counter key and creates and deletes keys of its own.

export interface StoreJob {
  buffer: SharedArrayBuffer;
  id: number;
  iterations: number;
}

function run({ buffer, id, iterations }: StoreJob): { done: true } {
  const store = new SharedStore(buffer);
  const mutex = new Mutex(store.lockWords, 0);
  const counter = Buffer.from('counter');
  for (let n = 0; n < iterations; n++) {
    mutex.withLock(() => {
      // INCR: a read and a write that only the lock keeps together.
      const v = Number(store.get(counter)?.toString() ?? '0');
      store.set(counter, Buffer.from(String(v + 1)));
      const own = Buffer.from(`w${id}:${n % 10}`);
      if (n % 3 === 2) store.delete(own);
      else store.set(own, Buffer.from(String(n)));
    });
  }
  return { done: true };
}

if (!isMainThread) parentPort!.postMessage(run(workerData as StoreJob));
