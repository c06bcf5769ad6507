import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiringStore, activeExpireCycle } from './expiry.ts';
import { GrowableStore } from '../store/growable-store.ts';
import { MapStore } from '../store/map-store.ts';
import { TYPE_LIST, TYPE_STRING, type Store } from '../store/store.ts';
import { RecordingStore, newSequence } from '../persistence/recording-store.ts';
import { scanRecords } from '../persistence/replay.ts';

// Expiry below the commands: the stores' expiry times and type tags, lazy
// hiding, reclaiming as a logged DEL, and active expiry's bounded cycle, on
// a clock the test moves (no waiting at all).

const k = (text: string) => Buffer.from(text);

for (const [name, make] of [['MapStore', () => new MapStore()], ['GrowableStore', () => GrowableStore.create()]] as const) {
  describe(`${name}: expiry times and type tags`, () => {
    it('keeps a time across set() (in place or moved to a bigger chunk), drops it with delete(), counts them', () => {
      const store: Store = make();
      store.set(k('a'), k('1'));
      assert.equal(store.expiresAt!(k('a')), 0);
      assert.equal(store.expiresAt!(k('absent')), undefined);
      assert.equal(store.setExpiresAt!(k('absent'), 5), false);
      assert.equal(store.setExpiresAt!(k('a'), 1234), true);
      assert.equal(store.expiringKeys!(), 1);
      store.set(k('a'), k('2'));
      store.set(k('a'), Buffer.alloc(5000, 1)); // another size class: a new record
      assert.equal(store.expiresAt!(k('a')), 1234);
      assert.equal(store.setExpiresAt!(k('a'), 99), true);
      assert.equal(store.expiringKeys!(), 1, 'changing a time does not count twice');
      store.delete(k('a'));
      assert.equal(store.expiringKeys!(), 0);
      store.set(k('a'), k('3'));
      assert.equal(store.expiresAt!(k('a')), 0, 'a new key has no time');
    });

    it('type tags: set() makes a string, setType() a list, absent is 0', () => {
      const store: Store = make();
      store.set(k('l'), Buffer.alloc(0));
      assert.equal(store.typeOf!(k('l')), TYPE_STRING);
      assert.equal(store.setType!(k('l'), TYPE_LIST), true);
      assert.equal(store.typeOf!(k('l')), TYPE_LIST);
      store.set(k('l'), k('text'));
      assert.equal(store.typeOf!(k('l')), TYPE_STRING);
      assert.equal(store.typeOf!(k('none')), 0);
    });

    it('sampleExpiring() goes round every key with a time, a bounded number per call', () => {
      const store: Store = make();
      for (let i = 0; i < 500; i++) store.set(k(`p${i}`), k('x'));
      for (let i = 0; i < 100; i++) {
        store.set(k(`t${i}`), k('x'));
        store.setExpiresAt!(k(`t${i}`), 1000 + i);
      }
      const seen = new Set<string>();
      for (let call = 0; call < 200 && seen.size < 100; call++) {
        const sample = store.sampleExpiring!(20);
        assert.ok(sample.length <= 20);
        for (const [key, at] of sample) {
          assert.equal(at, 1000 + Number(key.toString().slice(1)));
          seen.add(key.toString());
        }
      }
      assert.equal(seen.size, 100);
    });
  });
}

describe('ExpiringStore: lazy and active expiry', () => {
  const setUp = () => {
    let now = 1_000_000;
    const recording = new RecordingStore(new MapStore(), newSequence(1));
    const store = new ExpiringStore(recording, { now: () => now });
    return { store, recording, advance: (ms: number) => (now += ms), now: () => now };
  };
  // Each task's record as `op key [arg]` (its sequence number left out).
  const ops = (recording: RecordingStore) =>
    recording.takeTasks().map((task) => {
      let words = '';
      scanRecords(Buffer.from(task.record), 'task', (op, _seq, key, arg) => (words = [op, key, ...(arg ? [arg] : [])].map(String).join(' ')));
      return words;
    });

  it('hides an expired key from every read; a write reclaims it, logged as DEL', () => {
    const { store, recording, advance } = setUp();
    store.set(k('a'), k('1'));
    store.setExpiresAt(k('a'), 1_000_100);
    assert.deepEqual(ops(recording), ['SET a 1', 'PEXPIREAT a 1000100']);
    advance(99);
    assert.equal(store.get(k('a'))?.toString(), '1');
    advance(1);
    assert.equal(store.get(k('a')), undefined);
    assert.equal(store.typeOf(k('a')), 0);
    assert.equal(store.expiresAt(k('a')), undefined);
    assert.deepEqual(store.entries(), []);
    assert.equal(store.size(), 1, 'only hidden: reads here may not delete');
    assert.deepEqual(ops(recording), [], 'a read logs nothing');
    assert.equal(store.delete(k('a')), false, 'DEL of an expired key answers 0');
    assert.deepEqual(ops(recording), ['DEL a']);
    assert.equal(store.size(), 0);
  });

  it('the active cycle reclaims expired keys nobody reads, in bounded rounds', () => {
    const { store, recording, advance } = setUp();
    for (let i = 0; i < 1000; i++) {
      store.set(k(`e${i}`), k('x'));
      store.setExpiresAt(k(`e${i}`), 1_000_010);
    }
    for (let i = 0; i < 10; i++) {
      store.set(k(`live${i}`), k('x'));
      store.setExpiresAt(k(`live${i}`), 2_000_000);
    }
    recording.takeTasks();
    advance(20);
    const first = activeExpireCycle(store, 20, 1000);
    assert.ok(first.rounds > 1, 'more than a quarter expired: it goes on');
    let cycles = 1;
    while (store.size() > 10 && cycles < 1000) {
      activeExpireCycle(store, 20, 1000);
      cycles++;
    }
    assert.equal(store.size(), 10);
    assert.equal(store.expiredKeys, 1000);
    assert.equal(ops(recording).filter((op) => op.startsWith('DEL e')).length, 1000, 'each reclaimed key is logged as DEL');
    // With nothing expired, a cycle is one round of one sample.
    const idle = activeExpireCycle(store, 20, 1000);
    assert.equal(idle.rounds, 1);
    assert.equal(idle.expired, 0);
    assert.ok(store.averageTtl > 900_000, `avg_ttl estimate ${store.averageTtl}`);
  });

  it('a budget of 0 ms stops after one round', () => {
    const { store, advance } = setUp();
    for (let i = 0; i < 200; i++) {
      store.set(k(`e${i}`), k('x'));
      store.setExpiresAt(k(`e${i}`), 1_000_001);
    }
    advance(5);
    const result = activeExpireCycle(store, 20, 0);
    assert.equal(result.rounds, 1);
    assert.equal(result.expired, 20);
  });
});
