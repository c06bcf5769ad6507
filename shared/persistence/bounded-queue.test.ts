import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue } from './bounded-queue.ts';

describe('shared: bounded queue', () => {
  it('admits up to its capacity, then makes producers wait until the consumer is done', async () => {
    const queue = new BoundedQueue<number>(3);
    let admitted = false;
    await queue.put([1, 2]);
    const waiting = queue.put([3, 4]).then(() => { admitted = true; });
    await Promise.resolve();
    assert.equal(admitted, false, 'a put past the capacity must wait');
    assert.equal(queue.depth, 2);
    assert.equal(queue.blocked, 2);
    assert.deepEqual(queue.take(10), [1, 2]);
    assert.equal(queue.depth, 2, 'taken items keep their slots until done');
    await Promise.resolve();
    assert.equal(admitted, false);
    queue.done(2);
    await waiting;
    assert.equal(admitted, true);
    assert.deepEqual(queue.take(10), [3, 4]);
  });

  it('keeps the order of puts, waiting or not', async () => {
    const queue = new BoundedQueue<number>(2);
    const puts = [queue.put([1, 2]), queue.put([3]), queue.put([4])];
    const out: number[] = [];
    while (out.length < 4) {
      const taken = queue.take(1);
      out.push(...taken);
      queue.done(taken.length);
      await Promise.resolve();
    }
    await Promise.all(puts);
    assert.deepEqual(out, [1, 2, 3, 4]);
  });

  it('admits a group larger than the capacity once the queue is empty', async () => {
    const queue = new BoundedQueue<number>(2);
    await queue.put([1, 2, 3, 4, 5]);
    assert.equal(queue.depth, 5);
  });

  it('idle() resolves only when every item is done', async () => {
    const queue = new BoundedQueue<number>(4);
    await queue.put([1, 2]);
    let idle = false;
    const waiting = queue.idle().then(() => { idle = true; });
    queue.done(queue.take(1).length);
    await Promise.resolve();
    assert.equal(idle, false);
    queue.done(queue.take(1).length);
    await waiting;
    assert.equal(idle, true);
  });
});
