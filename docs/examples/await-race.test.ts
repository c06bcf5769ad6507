import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncMutex, AsyncStore, increment, incrementLocked } from './await-race.ts';

// The await race of docs/race-conditions.md: one thread, and still lost updates.

describe('docs: the await race (single-threaded Node code)', () => {
  it('100 concurrent read-await-write increments lose updates', async () => {
    const store = new AsyncStore();
    await Promise.all(Array.from({ length: 100 }, () => increment(store, 'n')));
    // Every increment read 0 before any of them wrote: the count ends at 1.
    assert.equal(await store.get('n'), 1);
  });

  it('the same increments through an AsyncMutex lose nothing', async () => {
    const store = new AsyncStore();
    const mutex = new AsyncMutex();
    await Promise.all(Array.from({ length: 100 }, () => incrementLocked(store, mutex, 'n')));
    assert.equal(await store.get('n'), 100);
  });

  it('a failing critical section does not block the next one', async () => {
    const mutex = new AsyncMutex();
    await assert.rejects(mutex.run(async () => { throw new Error('boom'); }), /boom/);
    assert.equal(await mutex.run(async () => 'next'), 'next');
  });
});
