import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { BufferRegistry } from './buffer-registry.ts';
import { GrowableStore, OUT_OF_LINE_BYTES, type GrowableStoreHandle } from './growable-store.ts';
import { RwLock } from '../locks/rwlock.ts';

// The thread side of the multi-thread test in growable-store.test.ts. Under
// the read-write lock in the store's lockWords, each thread increments a
// shared counter, writes a big (out-of-line) value of its own, reads the
// other thread's big value back whole, and adds keys (so the index is
// replaced by whichever thread fills it).

export interface GrowableJob {
  handle: GrowableStoreHandle;
  ports: MessagePort[];
  id: number;
  iterations: number;
}

function run({ handle, ports, id, iterations }: GrowableJob): { mismatches: number } {
  const store = new GrowableStore(handle, new BufferRegistry(ports));
  const lock = new RwLock(store.lockWords);
  const counter = Buffer.from('counter');
  const other = Buffer.from(`big${1 - id}`);
  let mismatches = 0;
  for (let n = 0; n < iterations; n++) {
    lock.withWrite(() => {
      const v = Number(store.get(counter)?.toString() ?? '0');
      store.set(counter, Buffer.from(String(v + 1)));
      store.set(Buffer.from(`big${id}`), Buffer.alloc(OUT_OF_LINE_BYTES * 2 + id, n & 255));
      for (let k = 0; k < 5; k++) store.set(Buffer.from(`t${id}:${n}:${k}`), Buffer.from('x'));
    });
    lock.withRead(() => {
      const big = store.get(other);
      if (big === undefined) return;
      const first = big[0]!;
      if (big.length !== OUT_OF_LINE_BYTES * 2 + 1 - id || big.some((byte) => byte !== first)) mismatches++;
    });
  }
  return { mismatches };
}

if (!isMainThread && (workerData as GrowableJob | undefined)?.handle !== undefined) {
  parentPort!.postMessage(run(workerData as GrowableJob));
}
