import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MapStore } from '../store/map-store.ts';
import { scanPage } from './scan.ts';

// SCAN's promise, as Redis makes it: a key present for the whole scan is
// returned, however the store changes meanwhile. Here also: never twice.

describe('SCAN cursor (hash order)', () => {
  it('returns every key present throughout exactly once, while 5,000 keys are added and others removed between pages', () => {
    const store = new MapStore();
    const original = Array.from({ length: 1000 }, (_, i) => `orig:${i}`);
    for (const key of original) store.set(Buffer.from(key), Buffer.from('v'));
    const seen = new Map<string, number>();
    let cursor = 0;
    let pages = 0;
    do {
      const page = scanPage(store, cursor, 25);
      for (const key of page.keys) seen.set(key.toString(), (seen.get(key.toString()) ?? 0) + 1);
      // The store grows (and loses keys) between two pages.
      for (let i = 0; i < 50; i++) store.set(Buffer.from(`new:${pages}:${i}`), Buffer.from('v'));
      store.delete(Buffer.from(`new:${Math.max(0, pages - 1)}:0`));
      cursor = page.next;
      pages++;
      assert.ok(pages < 10_000, 'the scan ends');
    } while (cursor !== 0);
    for (const key of original) assert.equal(seen.get(key), 1, `${key} returned once`);
    assert.ok([...seen.values()].every((count) => count === 1), 'no key twice');
    assert.ok(pages > 40, `pages of about 25 keys (${pages})`);
  });

  it('an empty store and a cursor past the end answer an empty last page', () => {
    assert.deepEqual(scanPage(new MapStore(), 0, 10), { keys: [], next: 0 });
    const store = new MapStore();
    store.set(Buffer.from('k'), Buffer.from('v'));
    assert.deepEqual(scanPage(store, 2 ** 32, 10), { keys: [], next: 0 });
  });
});
