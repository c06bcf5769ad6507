import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sequencer } from './sequencer.ts';

describe('shared: sequencer', () => {
  it('releases tasks in sequence order whatever order they arrive in', () => {
    const out: number[] = [];
    const sequencer = new Sequencer<{ seq: number }>(10, (task) => out.push(task.seq));
    for (const seq of [12, 11, 14, 10, 13, 15]) sequencer.accept({ seq });
    assert.deepEqual(out, [10, 11, 12, 13, 14, 15]);
    assert.equal(sequencer.holding, 0);
  });

  it('holds a task back while a smaller number is missing', () => {
    const out: number[] = [];
    const sequencer = new Sequencer<{ seq: number }>(1, (task) => out.push(task.seq));
    sequencer.accept({ seq: 2 });
    sequencer.accept({ seq: 3 });
    assert.deepEqual(out, []);
    assert.equal(sequencer.holding, 2);
    sequencer.accept({ seq: 1 });
    assert.deepEqual(out, [1, 2, 3]);
  });

  it('refuses a number it has already released', () => {
    const sequencer = new Sequencer<{ seq: number }>(1, () => {});
    sequencer.accept({ seq: 1 });
    assert.throws(() => sequencer.accept({ seq: 1 }), /already released/);
  });
});
