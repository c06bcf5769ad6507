import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RwLock } from './rwlock.ts';
import { W, type Job } from './lock-test-worker.ts';
import { runWorker } from '../../tester/harness/threads.ts';
import { until } from '../../tester/harness/until.ts';

const workerFile = new URL('./lock-test-worker.ts', import.meta.url);
const run = <T>(job: Job) => runWorker<T>(workerFile, job);
const sharedWords = () => new Int32Array(new SharedArrayBuffer(4 * W.WORDS));

test('rwlock: readers share, a writer is alone', () => {
  const rw = RwLock.create();
  rw.readLock();
  assert.equal(rw.tryReadLock(), true, 'a second reader gets in');
  assert.equal(rw.readers(), 2);
  assert.equal(rw.tryWriteLock(), false, 'no writer while readers are inside');
  rw.readUnlock();
  rw.readUnlock();
  assert.equal(rw.tryWriteLock(), true);
  assert.equal(rw.writerInside(), true);
  assert.equal(rw.tryReadLock(), false, 'no reader while a writer is inside');
  assert.equal(rw.tryWriteLock(), false);
  rw.writeUnlock();
  assert.equal(rw.readers() + Number(rw.writerInside()), 0);
});

test('rwlock: unlocking what is not held is an error and leaves the lock usable', () => {
  const rw = RwLock.create();
  assert.throws(() => rw.readUnlock(), /without a read lock/);
  assert.throws(() => rw.writeUnlock(), /without the write lock/);
  assert.equal(rw.withWrite(() => 'w'), 'w');
  assert.equal(rw.withRead(() => 'r'), 'r');
  assert.throws(() => rw.withRead(() => { throw new Error('boom'); }), /boom/);
  assert.throws(() => rw.withWrite(async () => 1), /Promise/);
  assert.equal(rw.readers() + Number(rw.writerInside()), 0);
});

test('rwlock: a waiting writer blocks new readers and goes before them', async () => {
  const memory = sharedWords();
  const rw = new RwLock(memory, W.LOCK);
  rw.readLock(); // we are a reader inside
  const writer = run<{ ticket: number }>({ kind: 'rw-write-once', memory });
  await until(() => rw.writersWaiting() === 1, 'the writer waits');
  // Writer preference: with a writer waiting, a new reader may not enter,
  // even though only readers are inside.
  assert.equal(rw.tryReadLock(), false);
  const reader = run<{ ticket: number; seen: number }>({ kind: 'rw-read-once', memory });
  assert.equal(memory[W.COUNTER], 0, 'the writer is not in while we read');
  rw.readUnlock(); // the last reader out lets the writer in
  const [w, r] = await Promise.all([writer, reader]);
  assert.equal(w.ticket, 0, 'the writer got in first');
  assert.equal(r.ticket, 1, 'then the reader');
  assert.equal(r.seen, 1, 'and the reader saw what the writer wrote');
  assert.equal(rw.writersWaiting(), 0);
});

test('rwlock: a reader asleep behind a writer is woken by its unlock (no lost wake-up)', { timeout: 10_000 }, async () => {
  const memory = sharedWords();
  const rw = new RwLock(memory, W.LOCK);
  rw.writeLock();
  memory[W.COUNTER] = 7;
  const reader = run<{ ticket: number; seen: number }>({ kind: 'rw-read-once', memory });
  // The unlock notifies only when someone says it waits: the reader must have said so.
  await until(() => rw.readersWaiting() === 1, 'the reader waits');
  rw.writeUnlock();
  const r = await reader; // would hang if the unlock had not woken it
  assert.equal(r.seen, 7, 'the reader saw what the writer wrote');
  assert.equal(rw.readersWaiting(), 0);
  assert.equal(rw.readers() + Number(rw.writerInside()), 0, 'free at the end');
});

test('rwlock: while 3 readers keep arriving, a writer gets in 100 times, never with a reader', async () => {
  const memory = sharedWords();
  const parties = 4;
  const iterations = 100;
  const readsBetween = 20;
  const readers = Array.from({ length: parties - 1 }, () =>
    run<{ reads: number }>({ kind: 'rw-reader', memory, parties }),
  );
  const writer = run<{ done: true }>({ kind: 'rw-writer', memory, parties, iterations, readsBetween });
  await writer; // it would hang here if readers could starve it
  const reads = (await Promise.all(readers)).map((r) => r.reads);
  assert.equal(memory[W.COUNTER], iterations, 'every write happened, none lost');
  assert.equal(Atomics.load(memory, W.VIOLATIONS), 0, 'a reader and the writer were never inside together');
  const total = reads.reduce((a, b) => a + b, 0);
  assert.ok(total >= iterations * readsBetween, `the readers kept reading (${reads.join(' + ')} reads)`);
  assert.equal(rw(memory).readers() + Number(rw(memory).writerInside()), 0, 'free at the end');
});

function rw(memory: Int32Array): RwLock {
  return new RwLock(memory, W.LOCK);
}
