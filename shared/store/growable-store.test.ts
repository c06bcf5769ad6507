import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferRegistry } from './buffer-registry.ts';
import { GrowableStore, OUT_OF_LINE_BYTES, PAGE_BYTES, CONTROL_BYTES, MAX_ITEM_BYTES } from './growable-store.ts';
import { MapStore } from './map-store.ts';
import { StoreError } from './store.ts';
import { settle } from '../../tester/harness/threads.ts';
import { startWorker } from '../../tester/harness/start-worker.ts';
import type { GrowableJob } from './growable-test-worker.ts';

const sorted = (entries: Array<[Buffer, Buffer]>) =>
  entries.map(([k, v]) => [k.toString('hex'), v.toString('hex')]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${(error as Error).stack ?? String(error)}`);
    return error.code;
  }
}

// A value of `length` bytes that tells where it came from (cheap to make at megabytes).
function filled(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length, seed & 255);
  for (let k = 0; k < length; k += 4096) b[k] = (seed + k) & 255;
  return b;
}

// Lengths from 0 bytes to megabytes, weighted to the edges that matter: tiny,
// around a size class, around the out-of-line threshold, and big.
const lengthArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 200 }) },
  { weight: 2, arbitrary: fc.integer({ min: 200, max: 20_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: OUT_OF_LINE_BYTES - 3, max: OUT_OF_LINE_BYTES + 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 3_000_000 }) },
);
// Keys as numbers (fast-check prints a failing case; a megabyte Buffer would
// fill the screen): 0-29 short keys, 30 the empty key, 31-34 keys too long to
// keep in line.
const keyArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 29 }) },
  { weight: 1, arbitrary: fc.constant(30) },
  { weight: 1, arbitrary: fc.integer({ min: 31, max: 34 }) },
);
const keyOf = (n: number) => (n < 30 ? Buffer.from(`k${n}`) : n === 30 ? Buffer.alloc(0) : filled(OUT_OF_LINE_BYTES + n - 30, n));
const opArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key: keyArb, length: lengthArb, seed: fc.nat(255) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), key: keyArb }) },
);

test('growable store: behaves exactly like MapStore on random operations, sizes from 0 bytes to megabytes', { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => {
      const registry = new BufferRegistry();
      const store = GrowableStore.create({}, registry);
      const model = new MapStore();
      for (const step of ops) {
        const key = keyOf(step.key);
        if (step.op === 'set') {
          const value = filled(step.length, step.seed);
          store.set(key, value);
          model.set(key, value);
        } else if (step.op === 'delete') {
          assert.equal(store.delete(key), model.delete(key));
        } else {
          const [got, expected] = [store.get(key), model.get(key)];
          assert.ok(got === expected || (got !== undefined && expected !== undefined && got.equals(expected)), `get ${step.key}`);
        }
        assert.equal(store.size(), model.size());
      }
      assert.deepEqual(sorted(store.entries()), sorted(model.entries()));
      assert.deepEqual(store.check(), []);
      // Emptied, it gives every out-of-line buffer back (only the index is left).
      for (const [key] of model.entries()) store.delete(key);
      assert.equal(registry.count, 1);
      assert.equal(store.usedMemory(), 8 * store.indexSlots + CONTROL_BYTES);
      assert.deepEqual(store.check(), []);
    }),
    { numRuns: 150, seed: 16 },
  );
});

test('growable store: grows with its data and shrinks when it is deleted; freed chunks are reused', () => {
  const registry = new BufferRegistry();
  const store = GrowableStore.create({}, registry);
  const empty = { used: store.usedMemory(), slots: store.indexSlots };
  const keys = Array.from({ length: 50_000 }, (_, i) => Buffer.from(`key:${i}`));
  const value = Buffer.alloc(100, 7);
  for (const key of keys) store.set(key, value);
  assert.equal(store.size(), keys.length);
  assert.ok(store.indexSlots >= 2 * keys.length, `the index grew (${store.indexSlots} slots)`);
  const full = store.usedMemory();
  // 50,000 records of 24 + ~9 + 100 bytes, rounded up to a class (at most 1.25x), and the index.
  assert.ok(full > 50_000 * 133 && full < 50_000 * 133 * 1.3 + 8 * store.indexSlots, `used memory ${full}`);
  const carved = store.reservedMemory() - 8 * store.indexSlots; // pages, control block
  for (const key of keys) assert.ok(store.delete(key));
  assert.equal(store.size(), 0);
  assert.equal(store.indexSlots, empty.slots, 'the index shrank back');
  assert.equal(store.usedMemory(), empty.used, 'used memory is back where it started');
  // Filling it again takes the freed chunks: no new page.
  for (const key of keys) store.set(key, value);
  assert.equal(store.reservedMemory() - 8 * store.indexSlots, carved);
  assert.deepEqual(store.check(), []);
  // Big values live in buffers of their own, given back when deleted.
  const big = Buffer.alloc(5_000_000, 1);
  for (let k = 0; k < 5; k++) store.set(Buffer.from(`big${k}`), big);
  assert.equal(registry.count, 1 + 5);
  assert.ok(store.usedMemory() >= full + 25_000_000);
  assert.ok(store.peakMemory() >= store.usedMemory());
  for (let k = 0; k < 5; k++) store.delete(Buffer.from(`big${k}`));
  assert.equal(registry.count, 1, 'every big value\'s buffer was dropped');
  assert.equal(store.usedMemory(), full);
  assert.ok(store.peakMemory() >= full + 25_000_000, 'the peak remembers');
});

test('growable store: keys and values up to the 512 MB limit; one byte more is TOO_LARGE', () => {
  const store = GrowableStore.create();
  const tooLong = { length: MAX_ITEM_BYTES + 1 } as Buffer; // only its length is read before the refusal
  assert.equal(codeOf(() => store.set(Buffer.from('k'), tooLong)), 'TOO_LARGE');
  assert.equal(codeOf(() => store.set(tooLong, Buffer.from('v'))), 'TOO_LARGE');
  const value = filled(20_000_000, 3);
  store.set(Buffer.from('k'), value);
  assert.ok(store.get(Buffer.from('k'))!.equals(value));
});

test('growable store: past maxMemory writes get OOM, reads and deletes go on, and writes work again once memory is freed', () => {
  const store = GrowableStore.create({ maxMemory: 2_000_000 });
  const value = Buffer.alloc(1000, 1);
  let written = 0;
  let code: string | undefined;
  for (; written < 10_000; written++) {
    code = codeOf(() => store.set(Buffer.from(`k${written}`), value));
    if (code !== undefined) break;
  }
  assert.equal(code, 'OOM');
  assert.ok(written > 1000 && written < 3000, `${written} writes before OOM`);
  assert.throws(() => store.set(Buffer.from('k0'), value), /command not allowed when used memory > 'maxmemory'\./);
  assert.deepEqual(store.get(Buffer.from('k0')), value, 'reads go on');
  for (let k = 0; k < 200; k++) assert.ok(store.delete(Buffer.from(`k${k}`)), 'deletes go on');
  store.set(Buffer.from('again'), value);
  assert.deepEqual(store.get(Buffer.from('again')), value);
  store.maxMemory = 0; // no limit
  for (let k = 0; k < 1000; k++) store.set(Buffer.from(`more${k}`), value);
  assert.deepEqual(store.check(), []);
});

test('growable store: random bytes over its buffers never hang it or throw anything but StoreError', { timeout: 60_000 }, () => {
  let seed = 1;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let round = 0; round < 300; round++) {
    const registry = new BufferRegistry();
    const store = GrowableStore.create({}, registry);
    for (let k = 0; k < 40; k++) store.set(Buffer.from(`k${k}`), Buffer.alloc(k % 7 === 0 ? OUT_OF_LINE_BYTES + 10 : k * 3, k));
    const control = new Uint8Array(store.handle.control);
    const arena = new Uint8Array(store.handle.arena, 0, PAGE_BYTES * 3);
    const index = new Uint8Array(registry.get(new Int32Array(store.handle.control)[2]!)!);
    const targets = [control, arena, index];
    for (let n = 0; n < 1 + (round % 30); n++) {
      const bytes = targets[round % 3]!;
      let at = Math.floor(random() * bytes.length);
      if (bytes === control && at >= 64 && at < 128) at = 0; // spare the caller's lock words
      bytes[at] = Math.floor(random() * 256);
    }
    for (let op = 0; op < 200; op++) {
      const key = Buffer.from(`k${Math.floor(random() * 60)}`);
      const r = random();
      codeOf(() => {
        if (r < 0.4) store.set(key, Buffer.alloc(Math.floor(random() * 300)));
        else if (r < 0.6) store.delete(key);
        else if (r < 0.95) store.get(key);
        else store.entries();
      });
    }
    codeOf(() => store.check());
  }
});

test('growable store: an index with no empty slot (impossible unless corrupted) still ends', () => {
  const registry = new BufferRegistry();
  const store = GrowableStore.create({}, registry);
  store.set(Buffer.from('a'), Buffer.from('1'));
  const index = new Int32Array(registry.get(new Int32Array(store.handle.control)[2]!)!);
  const ref = index.find((word, i) => i % 2 === 1 && word !== 0)!;
  for (let s = 0; s < index.length / 2; s++) {
    index[2 * s] = 1000 + s;
    index[2 * s + 1] = ref;
  }
  assert.equal(store.get(Buffer.from('zz')), undefined);
  assert.equal(codeOf(() => store.set(Buffer.from('zz'), Buffer.from('1'))), 'CORRUPTED');
  assert.equal(store.delete(Buffer.from('zz')), false);
  assert.ok(store.check().length > 0, 'check() reports the damage');
});

test('growable store: threads share it under a lock - big values and a new index made by one are read by the others', async () => {
  const [mine, ...theirs] = BufferRegistry.mesh(3);
  const store = GrowableStore.create({}, new BufferRegistry(mine));
  const file = new URL('./growable-test-worker.ts', import.meta.url);
  const iterations = 400;
  const results = await Promise.all(theirs.map((ports, id) => {
    const job: GrowableJob = { handle: store.handle, ports, id, iterations };
    return settle<{ mismatches: number }>(startWorker(file, job, { transferList: ports }));
  }));
  for (const result of results) assert.equal(result.mismatches, 0, 'every value read back whole, whoever wrote it');
  assert.equal(store.get(Buffer.from('counter'))?.toString(), String(2 * iterations), 'no lost increment');
  for (let id = 0; id < 2; id++) {
    const big = store.get(Buffer.from(`big${id}`))!;
    assert.equal(big.length, OUT_OF_LINE_BYTES * 2 + id);
    assert.ok(big.equals(Buffer.alloc(big.length, (iterations - 1) & 255)), 'the last big value, made by a thread, read here');
  }
  assert.ok(store.size() > 1000, 'another thread grew the index');
  assert.deepEqual(store.check(), []);
});
