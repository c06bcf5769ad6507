import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IdleCompaction, fullCollection } from './idle-compaction.ts';

// The timer is off (lookMs 0): each look() stands for one second, so these
// tests say exactly when collections run, with no clock and no sleep.

function compaction() {
  let work = 0;
  let collected = 0;
  let released = 0;
  const idle = new IdleCompaction(() => work, {
    lookMs: 0, collectAtMs: [1000, 8000], collect: () => collected++, release: () => released++,
  });
  return { idle, doWork: () => work++, collected: () => collected, released: () => released };
}

/** Which of `looks` looks collected (1-based). */
function collectingLooks(idle: IdleCompaction, looks: number): number[] {
  const at: number[] = [];
  for (let i = 1; i <= looks; i++) if (idle.look()) at.push(i);
  return at;
}

test('before any work, an idle process never collects', () => {
  const { idle, collected } = compaction();
  assert.deepEqual(collectingLooks(idle, 30), []);
  assert.equal(collected(), 0);
});

test('after work: one collection 1 s and one 8 s into the quiet, then none, however long it stays idle', () => {
  const { idle, doWork, collected, released } = compaction();
  doWork();
  // The first look sees the counter move (busy); the quiet counts from there.
  assert.deepEqual(collectingLooks(idle, 60), [2, 9]);
  assert.equal(collected(), 2);
  assert.equal(released(), 2, 'release() before each collection');
  assert.equal(idle.collections, 2);
});

test('never during a load: the counter moves between every two looks', () => {
  const { idle, doWork, collected } = compaction();
  for (let i = 0; i < 100; i++) {
    doWork();
    assert.equal(idle.look(), false);
  }
  assert.equal(collected(), 0);
});

test('work that resumes between the two collections starts the idle period again', () => {
  const { idle, doWork } = compaction();
  doWork();
  assert.deepEqual(collectingLooks(idle, 5), [2]); // the first collection; the second not yet
  doWork(); // a new burst
  assert.deepEqual(collectingLooks(idle, 20), [2, 9]);
});

test('a collection does not count as work: with the counter untouched by it, it cannot keep itself going', () => {
  let work = 0;
  let collected = 0;
  // A collection that moved the counter would collect again and again: this one does not.
  const idle = new IdleCompaction(() => work, { lookMs: 0, collect: () => collected++ });
  work++;
  for (let i = 0; i < 100; i++) idle.look();
  assert.equal(collected, 2);
});

test("fullCollection is V8's gc(), without --expose-gc", () => {
  const gc = fullCollection();
  assert.equal(typeof gc, 'function');
  gc(); // a full collection, synchronously
});

test('its timer does not keep the process alive', async () => {
  // A process whose only task is an IdleCompaction looking every 10 ms: it
  // must end by itself (with the timer not unref-ed, execFile's timeout kills it).
  const module = fileURLToPath(new URL('./idle-compaction.ts', import.meta.url));
  const script = `const { IdleCompaction } = await import(${JSON.stringify(module)}); ` +
    `let work = 1; new IdleCompaction(() => work++, { lookMs: 10 }); console.log('made');`;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout));
  });
  assert.equal(output.trim(), 'made');
});
