import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedStore, DEFAULT_LIMITS } from './shared-store.ts';
import { MapStore } from './map-store.ts';
import { StoreError } from './store.ts';
import type { StoreJob } from './store-test-worker.ts';
import { runWorker } from '../../tester/harness/threads.ts';

// A small seeded generator (mulberry32): the "random" sequences are the same
// on every run, so a failure can be replayed.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(random: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let k = 0; k < length; k++) b[k] = Math.floor(random() * 256);
  return b;
}

const sorted = (entries: Array<[Buffer, Buffer]>) =>
  entries.map(([k, v]) => [k.toString('hex'), v.toString('hex')]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    return error.code;
  }
}

test('shared store: behaves exactly like MapStore on random operations (binary keys, limits)', () => {
  const limits = { capacity: 40, maxKeyBytes: 6, maxValueBytes: 12 };
  for (let seed = 1; seed <= 20; seed++) {
    const random = rng(seed);
    const store = SharedStore.create(limits);
    const model = new MapStore();
    // A pool of binary keys: empty, short, at the limit and one byte over it;
    // more keys than capacity, so STORE_FULL happens, and a tiny index means
    // long probe runs and many backward shifts.
    const keys = Array.from({ length: 60 }, (_, k) => randomBytes(random, k % 8));
    for (let op = 0; op < 3000; op++) {
      const key = keys[Math.floor(random() * keys.length)]!;
      const r = random();
      if (r < 0.45) {
        const value = randomBytes(random, Math.floor(random() * 14)); // 0..13: some too large
        const isNew = model.get(key) === undefined;
        const expected =
          key.length > limits.maxKeyBytes || value.length > limits.maxValueBytes
            ? 'TOO_LARGE'
            : isNew && model.size() === limits.capacity
              ? 'STORE_FULL'
              : undefined;
        assert.equal(codeOf(() => store.set(key, value)), expected, `seed ${seed} op ${op}: set`);
        if (expected === undefined) model.set(key, value);
      } else if (r < 0.75) {
        assert.equal(store.delete(key), model.delete(key), `seed ${seed} op ${op}: delete`);
      } else {
        assert.deepEqual(store.get(key), model.get(key), `seed ${seed} op ${op}: get`);
      }
      assert.equal(store.size(), model.size(), `seed ${seed} op ${op}: size`);
      if (op % 100 === 0) {
        assert.deepEqual(sorted(store.entries()), sorted(model.entries()));
        assert.deepEqual(store.check(), []);
      }
    }
    assert.deepEqual(sorted(store.entries()), sorted(model.entries()));
    assert.deepEqual(store.check(), []);
  }
});

test('shared store: limits are exact and give StoreError TOO_LARGE / STORE_FULL', () => {
  const store = SharedStore.create({ capacity: 2, maxKeyBytes: 3, maxValueBytes: 4 });
  assert.deepEqual(store.limits, { capacity: 2, maxKeyBytes: 3, maxValueBytes: 4 });
  store.set(Buffer.from('abc'), Buffer.from('1234')); // exactly at both limits
  assert.equal(codeOf(() => store.set(Buffer.from('abcd'), Buffer.from('1'))), 'TOO_LARGE');
  assert.equal(codeOf(() => store.set(Buffer.from('a'), Buffer.from('12345'))), 'TOO_LARGE');
  assert.throws(() => store.set(Buffer.from('a'), Buffer.from('12345')), /value is 5 bytes, the limit is 4/);
  store.set(Buffer.alloc(0), Buffer.alloc(0)); // empty key and empty value are fine
  assert.equal(codeOf(() => store.set(Buffer.from('x'), Buffer.from('1'))), 'STORE_FULL');
  store.set(Buffer.from('abc'), Buffer.from('9')); // replacing needs no new room
  assert.deepEqual(store.get(Buffer.from('abc')), Buffer.from('9'));
  assert.equal(store.delete(Buffer.alloc(0)), true);
  store.set(Buffer.from('x'), Buffer.from('1')); // room again after a delete
  assert.equal(store.size(), 2);
  assert.equal(store.get(Buffer.from('abcd')), undefined, 'a too-long key is simply absent');
  assert.deepEqual(store.check(), []);
});

test('shared store: options are checked, and the default limits are documented values', () => {
  assert.deepEqual(SharedStore.create().limits, DEFAULT_LIMITS);
  assert.throws(() => SharedStore.create({ capacity: 0 }), RangeError);
  assert.throws(() => SharedStore.create({ maxKeyBytes: -1 }), RangeError);
  assert.throws(() => SharedStore.create({ capacity: 1.5 }), RangeError);
  assert.ok(SharedStore.bytesFor({ capacity: 10, maxKeyBytes: 8, maxValueBytes: 8 }) < 1024);
});

test('shared store: another SharedStore over the same buffer sees the same table', () => {
  const a = SharedStore.create({ capacity: 8 });
  const b = new SharedStore(a.buffer);
  a.set(Buffer.from('k'), Buffer.from('v'));
  assert.deepEqual(b.get(Buffer.from('k')), Buffer.from('v'));
  assert.equal(b.delete(Buffer.from('k')), true);
  assert.equal(a.size(), 0);
  assert.equal(codeOf(() => new SharedStore(new SharedArrayBuffer(64))), 'CORRUPTED');
  assert.equal(codeOf(() => new SharedStore(new SharedArrayBuffer(4096))), 'CORRUPTED');
});

// Every operation on a damaged table must end, and either work or throw a
// StoreError: never a RangeError, a TypeError, an endless loop or a crash.
function hammer(store: SharedStore, random: () => number): void {
  const keys = Array.from({ length: 12 }, (_, k) => randomBytes(random, k % 5));
  for (let op = 0; op < 200; op++) {
    const key = keys[Math.floor(random() * keys.length)]!;
    const r = random();
    codeOf(() => {
      if (r < 0.4) store.set(key, randomBytes(random, Math.floor(random() * 6)));
      else if (r < 0.6) store.delete(key);
      else if (r < 0.9) store.get(key);
      else store.size();
    });
  }
  codeOf(() => store.entries());
  store.check(); // reports problems, never throws
}

test('shared store: random bytes over the buffer never hang it or throw anything but StoreError', { timeout: 20_000 }, () => {
  const limits = { capacity: 16, maxKeyBytes: 4, maxValueBytes: 5 };
  for (let seed = 1; seed <= 300; seed++) {
    const random = rng(seed);
    const store = SharedStore.create(limits);
    for (let k = 0; k < 10; k++) store.set(randomBytes(random, k % 5), randomBytes(random, 3));
    const bytes = new Uint8Array(store.buffer);
    if (seed % 3 === 0) {
      // Everything, header included: this instance keeps the geometry it read
      // at construction, and a new one refuses the buffer or works.
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(random() * 256);
      codeOf(() => hammer(new SharedStore(store.buffer), random));
    } else {
      // A few bytes here and there: subtler damage that lookups walk into.
      for (let n = 0; n < 1 + seed % 20; n++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    }
    hammer(store, random);
  }
});

test('shared store: an index with no empty slot (impossible unless corrupted) still ends', () => {
  const store = SharedStore.create({ capacity: 4, maxKeyBytes: 4, maxValueBytes: 4 });
  store.set(Buffer.from('a'), Buffer.from('1'));
  // Point every index slot at record 0 under made-up hashes: a lookup that
  // stopped only at an empty slot would loop forever.
  const i32 = new Int32Array(store.buffer);
  const slots = i32[2]!;
  for (let s = 0; s < slots; s++) {
    i32[32 + 2 * s] = 1000 + s;
    i32[32 + 2 * s + 1] = 1;
  }
  assert.equal(store.get(Buffer.from('zz')), undefined);
  assert.equal(codeOf(() => store.set(Buffer.from('zz'), Buffer.from('1'))), 'CORRUPTED');
  assert.equal(store.delete(Buffer.from('zz')), false);
  assert.ok(store.check().length > 0, 'check() reports the damage');
});

test('shared store: 4 Workers share one table under the mutex in its lockWords', async () => {
  const store = SharedStore.create({ capacity: 64 });
  const iterations = 3000;
  const file = new URL('./store-test-worker.ts', import.meta.url);
  await Promise.all(
    [0, 1, 2, 3].map((id) => runWorker(file, { buffer: store.buffer, id, iterations } satisfies StoreJob)),
  );
  assert.equal(store.get(Buffer.from('counter'))?.toString(), String(4 * iterations), 'no lost increment');
  assert.deepEqual(store.check(), []);
  // Each Worker's last write to key n%10 decides whether it is present.
  const expected = 1 + 4 * [...Array(10).keys()].filter((k) => {
    const last = iterations - 1 - ((iterations - 1 - k) % 10);
    return last % 3 !== 2;
  }).length;
  assert.equal(store.size(), expected);
});
