import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mutex } from './mutex.ts';
import { W, type Job } from './lock-test-worker.ts';
import { runWorker } from '../../tester/harness/threads.ts';
import { until } from '../../tester/harness/until.ts';

const workerFile = new URL('./lock-test-worker.ts', import.meta.url);
const run = (job: Job) => runWorker<{ done: true }>(workerFile, job);
const sharedWords = () => new Int32Array(new SharedArrayBuffer(4 * W.WORDS));

test('mutex: tryLock takes a free lock only, and the lock is not reentrant', () => {
  const mutex = Mutex.create();
  assert.equal(mutex.tryLock(), true);
  assert.equal(mutex.isLocked(), true);
  assert.equal(mutex.tryLock(), false, 'a held lock cannot be taken again, even by its holder');
  mutex.unlock();
  assert.equal(mutex.isLocked(), false);
  assert.equal(mutex.tryLock(), true);
  mutex.unlock();
});

test('mutex: unlock of an unlocked mutex is an error and leaves it usable', () => {
  const mutex = Mutex.create();
  assert.throws(() => mutex.unlock(), /not locked/);
  assert.equal(mutex.tryLock(), true);
  mutex.unlock();
});

test('mutex: withLock returns the result and releases on a throw', () => {
  const mutex = Mutex.create();
  assert.equal(mutex.withLock(() => 42), 42);
  assert.throws(() => mutex.withLock(() => { throw new Error('boom'); }), /boom/);
  assert.equal(mutex.isLocked(), false);
  // An async critical section would release the lock at its first await.
  assert.throws(() => mutex.withLock(async () => 1), /Promise/);
  assert.equal(mutex.isLocked(), false);
});

test('mutex: a waiting Worker sleeps in state 2 and gets the lock on unlock', async () => {
  const memory = sharedWords();
  const mutex = new Mutex(memory, W.LOCK);
  mutex.lock();
  const done = run({ kind: 'mutex-lock-once', memory });
  // The Worker's lock() turns the state into 2 (locked, with waiters) and sleeps.
  await until(() => Atomics.load(memory, W.LOCK) === 2, 'the Worker waits for the lock');
  assert.equal(mutex.tryLock(), false);
  assert.equal(memory[W.COUNTER], 0, 'the Worker cannot be inside while we hold the lock');
  mutex.unlock(); // must wake it
  await done;
  assert.equal(memory[W.COUNTER], 1);
  assert.equal(Atomics.load(memory, W.LOCK), 0, 'unlocked at the end');
});

test('mutex: 4 Workers x 20000 non-atomic increments under the lock sum exactly', async () => {
  const memory = sharedWords();
  const parties = 4;
  const iterations = 20_000;
  const jobs = Array.from({ length: parties }, () =>
    run({ kind: 'mutex-counter', memory, parties, iterations }),
  );
  await Promise.all(jobs); // no deadlock: every Worker finishes
  assert.equal(memory[W.COUNTER], parties * iterations, 'no increment lost');
  assert.equal(Atomics.load(memory, W.LOCK), 0, 'unlocked at the end');
});
