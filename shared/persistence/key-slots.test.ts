import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeySlots } from './key-slots.ts';

// A small deterministic generator: the same operations on every run.
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test('KeySlots agrees with a Map on random adds, finds and removes, keys found where they lie in a bigger buffer', () => {
  const random = generator(16);
  const slots = new KeySlots();
  const model = new Map<string, number>(); // key (latin1) -> slot
  const used = new Set<number>();
  for (let round = 0; round < 60_000; round++) {
    // Keys of 0 to 40 bytes (some over the 32 compared byte by byte), from a small alphabet so that they repeat.
    const length = Math.floor(random() * random() * 41);
    const key = Buffer.alloc(length);
    for (let k = 0; k < length; k++) key[k] = 97 + Math.floor(random() * 3);
    const before = Math.floor(random() * 5);
    const around = Buffer.concat([Buffer.alloc(before, 0x7c), key, Buffer.alloc(3, 0x7c)]); // the key inside other bytes
    const start = before;
    const end = before + length;
    const id = key.toString('latin1');
    const action = random();
    if (action < 0.5) {
      const slot = slots.add(around, start, end);
      const known = model.get(id);
      if (known === undefined) {
        assert.ok(!used.has(slot), `a new key got slot ${slot}, which another key holds`);
        assert.ok(slot < slots.slotCount);
        model.set(id, slot);
        used.add(slot);
      } else {
        assert.equal(slot, known, `add of a known key gave another slot (${JSON.stringify(id)})`);
      }
    } else if (action < 0.8) {
      assert.equal(slots.find(around, start, end), model.get(id) ?? -1, `find(${JSON.stringify(id)})`);
    } else {
      const slot = slots.find(around, start, end);
      if (slot !== -1) {
        slots.remove(slot);
        model.delete(id);
        used.delete(slot);
      }
    }
    assert.equal(slots.size, model.size);
  }
  assert.ok(model.size > 1000, `the test reached ${model.size} keys at once`);
  for (const [id, slot] of model) assert.equal(slots.keyOf(slot).toString('latin1'), id);
  assert.deepEqual([...slots.liveSlots()].sort((a, b) => a - b), [...used].sort((a, b) => a - b));
});

test('KeySlots reuses a removed key\'s slot, keeps keys larger than its first buffer, and tells keys that share a hash chain apart', () => {
  const slots = new KeySlots();
  const big = Buffer.alloc(100_000, 0x61);
  const bigSlot = slots.add(big, 0, big.length);
  const keys = Array.from({ length: 5000 }, (_, i) => Buffer.from(`key:${i}`));
  const made = keys.map((key) => slots.add(key, 0, key.length)); // past the first 1,024 buckets and slots: rehashed, grown
  assert.equal(new Set(made).size, keys.length);
  assert.equal(slots.keyOf(bigSlot).equals(big), true);
  const gone = made[42]!;
  slots.remove(gone);
  assert.equal(slots.find(keys[42]!, 0, keys[42]!.length), -1);
  const again = Buffer.from('another');
  assert.equal(slots.add(again, 0, again.length), gone, 'the removed slot goes to the next new key');
  assert.equal(slots.keyOf(gone).toString(), 'another');
  keys.forEach((key, i) => {
    if (i !== 42) assert.equal(slots.find(key, 0, key.length), made[i], `key:${i}`);
  });
  const empty = Buffer.alloc(0);
  const emptySlot = slots.add(empty, 0, 0);
  assert.equal(slots.find(empty, 0, 0), emptySlot);
  assert.equal(slots.keyOf(emptySlot).length, 0);
});

test('KeySlots tells apart keys whose hashes are equal, short and long (compared byte for byte)', () => {
  // Two 8-byte keys with the same fnv1a hash; the same suffix after each keeps them colliding.
  for (const suffix of ['', 'x'.repeat(30)]) {
    const first = Buffer.from(`c1062789${suffix}`);
    const second = Buffer.from(`c1279192${suffix}`);
    const slots = new KeySlots();
    const a = slots.add(first, 0, first.length);
    assert.equal(slots.find(second, 0, second.length), -1, `a key with the same hash is not found as another (${second.length} bytes)`);
    const b = slots.add(second, 0, second.length);
    assert.notEqual(a, b);
    assert.equal(slots.find(first, 0, first.length), a);
    assert.equal(slots.find(second, 0, second.length), b);
    slots.remove(a);
    assert.equal(slots.find(first, 0, first.length), -1);
    assert.equal(slots.find(second, 0, second.length), b, 'found past the removed entry of its colliding key');
  }
});

test('KeySlots keeps finding keys, and ends, after removed keys have filled its table many times over', () => {
  // Removed entries take room in the table until a rehash clears them: were
  // they not counted, the table would fill up and a lookup of a missing key
  // would never end. 50,000 keys added and removed, a few live at a time.
  const slots = new KeySlots();
  const live: Buffer[] = [];
  for (let i = 0; i < 50_000; i++) {
    const key = Buffer.from(`churn:${i}`);
    slots.add(key, 0, key.length);
    live.push(key);
    if (live.length > 8) {
      const gone = live.shift()!;
      slots.remove(slots.find(gone, 0, gone.length));
      assert.equal(slots.find(gone, 0, gone.length), -1);
    }
  }
  assert.equal(slots.size, 8);
  assert.ok(slots.slotCount <= 9, `slots are reused (${slots.slotCount} made)`);
  for (const key of live) assert.notEqual(slots.find(key, 0, key.length), -1);
  const missing = Buffer.from('never added');
  assert.equal(slots.find(missing, 0, missing.length), -1);
});
