import { Mutex } from '../../shared/locks/mutex.ts';
import { RwLock } from '../../shared/locks/rwlock.ts';
import { MapStore } from '../../shared/store/map-store.ts';
import { GrowableStore } from '../../shared/store/growable-store.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import type { Store } from '../../shared/store/store.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';
import { stepLine } from '../progress.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

// Single-thread micro-benchmarks of the building blocks: what one uncontended
// lock/unlock costs, and the shared table against a Map. Run:
//   npx tsx tester/bench/micro.ts
// Contended costs belong to the step benchmarks (step 03), not here.

// The progress line (stderr): the loops block the event loop, so it shows the
// measurement under way, drawn between measurements (tester/progress.ts).
const line = stepLine();

function measure(name: string, count: number, fn: () => void): void {
  line.step(`measuring ${name}`);
  fn(); // warm up (JIT)
  const start = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - start);
  const perSecond = (count / ns) * 1e9;
  line.clear();
  console.log(`${name.padEnd(42)} ${(ns / 1e6).toFixed(1).padStart(8)} ms  ${Math.round(perSecond).toLocaleString('en').padStart(13)} /s`);
}

const N = 1_000_000;
const mutex = Mutex.create();
measure(`mutex lock+unlock x ${N}`, N, () => {
  for (let n = 0; n < N; n++) {
    mutex.lock();
    mutex.unlock();
  }
});
measure(`mutex withLock x ${N}`, N, () => {
  for (let n = 0; n < N; n++) mutex.withLock(() => n);
});
const rw = RwLock.create();
measure(`rwlock readLock+readUnlock x ${N}`, N, () => {
  for (let n = 0; n < N; n++) {
    rw.readLock();
    rw.readUnlock();
  }
});
measure(`rwlock writeLock+writeUnlock x ${N}`, N, () => {
  for (let n = 0; n < N; n++) {
    rw.writeLock();
    rw.writeUnlock();
  }
});

const KEYS = 50_000;
const keys = Array.from({ length: KEYS }, (_, k) => Buffer.from(`key:${String(k).padStart(12, '0')}`));
const value = Buffer.from('xxx');
const OPS = 500_000;
for (const [name, store] of [
  ['MapStore', new MapStore()],
  ['SharedStore', SharedStore.create({ capacity: KEYS })],
  ['GrowableStore', GrowableStore.create()],
] as Array<[string, Store]>) {
  measure(`${name} set (new + replace) x ${OPS}`, OPS, () => {
    for (let n = 0; n < OPS; n++) store.set(keys[n % KEYS]!, value);
  });
  measure(`${name} get (hit) x ${OPS}`, OPS, () => {
    for (let n = 0; n < OPS; n++) store.get(keys[n % KEYS]!);
  });
  measure(`${name} delete + set x ${OPS}`, OPS, () => {
    for (let n = 0; n < OPS; n++) {
      store.delete(keys[n % KEYS]!);
      store.set(keys[n % KEYS]!, value);
    }
  });
}

// Start-up replay inserts every live key into a fresh store: one million new
// keys of 16 bytes with 100-byte values, into an empty GrowableStore (its
// index grows from 64 slots to 2 million on the way, the arena page by page).
const MILLION = 1_000_000;
const millionKeys = Array.from({ length: MILLION }, (_, k) => Buffer.from(`key:${String(k).padStart(12, '0')}`));
const hundred = Buffer.alloc(100, 120);
// Timed once per round (measure() would run it twice: the second pass would
// replace keys, not add them).
for (let round = 1; round <= 3; round++) {
  const fresh = GrowableStore.create();
  const start = process.hrtime.bigint();
  for (let n = 0; n < MILLION; n++) fresh.set(millionKeys[n]!, hundred);
  const ns = Number(process.hrtime.bigint() - start);
  console.log(`GrowableStore: ${MILLION} new keys into an empty store, round ${round}: ${(ns / 1e6).toFixed(0)} ms, ${Math.round((MILLION / ns) * 1e9).toLocaleString('en')} /s`);
}
