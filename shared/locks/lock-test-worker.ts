import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Mutex } from './mutex.ts';
import { RwLock } from './rwlock.ts';
import { barrier } from '../../tester/harness/threads.ts';

// The Worker side of mutex.test.ts and rwlock.test.ts. `memory` is an Int32Array
// over a SharedArrayBuffer; the words are laid out by W below. The tests import
// W and Job from here; the job itself runs only inside a Worker.

export const W = {
  LOCK: 0, // 5 words: a Mutex uses 1, an RwLock 5
  BARRIER: 5,
  COUNTER: 6, // incremented with plain reads and writes, under the lock
  STOP: 7, // set by the writer when it is done: readers stop
  READERS_INSIDE: 8, // readers currently holding the read lock
  WRITER_INSIDE: 9,
  VIOLATIONS: 10, // times a reader and a writer were inside together
  SEQ: 11, // a ticket counter, to record who got in first
  READS: 12, // read-lock acquisitions so far, all readers together
  WORDS: 16,
} as const;

export type Job =
  | { kind: 'mutex-counter'; memory: Int32Array; parties: number; iterations: number }
  | { kind: 'mutex-lock-once'; memory: Int32Array }
  | { kind: 'rw-reader'; memory: Int32Array; parties: number }
  | { kind: 'rw-writer'; memory: Int32Array; parties: number; iterations: number; readsBetween: number }
  | { kind: 'rw-write-once'; memory: Int32Array }
  | { kind: 'rw-read-once'; memory: Int32Array };

// A few hundred nanoseconds of work inside the critical section, so that the
// other threads pile up behind the lock (contention) instead of rarely meeting.
function work(): number {
  let x = 0;
  for (let k = 0; k < 50; k++) x += k;
  return x;
}

function run(job: Job): unknown {
  const m = job.memory;
  switch (job.kind) {
    case 'mutex-counter': {
      const mutex = new Mutex(m, W.LOCK);
      barrier(m, W.BARRIER, job.parties);
      for (let n = 0; n < job.iterations; n++) {
        const critical = () => {
          const v = m[W.COUNTER]; // plain read...
          work();
          m[W.COUNTER] = v + 1; // ...plain write: only the lock keeps this exact
        };
        // Use all three ways in: lock/unlock, withLock, and tryLock (falling
        // back to lock() when it fails: a spinning tryLock loop would burn the
        // CPU the lock holder needs, and the test would crawl on a busy machine).
        if (n % 3 === 0) {
          mutex.lock();
          critical();
          mutex.unlock();
        } else if (n % 3 === 1) {
          mutex.withLock(critical);
        } else {
          if (!mutex.tryLock()) mutex.lock();
          critical();
          mutex.unlock();
        }
      }
      return { done: true };
    }
    case 'mutex-lock-once': {
      const mutex = new Mutex(m, W.LOCK);
      mutex.lock(); // blocks until the main thread unlocks
      m[W.COUNTER] += 1;
      mutex.unlock();
      return { done: true };
    }
    case 'rw-reader': {
      const rw = new RwLock(m, W.LOCK);
      barrier(m, W.BARRIER, job.parties);
      let reads = 0;
      while (Atomics.load(m, W.STOP) === 0) {
        rw.readLock();
        Atomics.add(m, W.READERS_INSIDE, 1);
        if (Atomics.load(m, W.WRITER_INSIDE) !== 0) Atomics.add(m, W.VIOLATIONS, 1);
        work();
        Atomics.sub(m, W.READERS_INSIDE, 1);
        rw.readUnlock();
        Atomics.add(m, W.READS, 1);
        Atomics.notify(m, W.READS); // the writer may be waiting for reads to happen
        reads++;
      }
      return { reads };
    }
    case 'rw-writer': {
      const rw = new RwLock(m, W.LOCK);
      barrier(m, W.BARRIER, job.parties);
      for (let n = 0; n < job.iterations; n++) {
        // Let the readers run a while between writes, so that each write
        // has to get in while readers keep arriving (and a writer that
        // loops alone cannot shut them out: writers are preferred).
        const target = Atomics.load(m, W.READS) + job.readsBetween;
        for (let r = Atomics.load(m, W.READS); r < target; r = Atomics.load(m, W.READS)) {
          Atomics.wait(m, W.READS, r);
        }
        rw.writeLock();
        Atomics.store(m, W.WRITER_INSIDE, 1);
        if (Atomics.load(m, W.READERS_INSIDE) !== 0) Atomics.add(m, W.VIOLATIONS, 1);
        m[W.COUNTER] = m[W.COUNTER] + 1;
        Atomics.store(m, W.WRITER_INSIDE, 0);
        rw.writeUnlock();
      }
      Atomics.store(m, W.STOP, 1);
      return { done: true };
    }
    case 'rw-write-once': {
      const rw = new RwLock(m, W.LOCK);
      rw.writeLock(); // waits for the main thread's read lock
      const ticket = Atomics.add(m, W.SEQ, 1);
      m[W.COUNTER] = 1;
      rw.writeUnlock();
      return { ticket };
    }
    case 'rw-read-once': {
      const rw = new RwLock(m, W.LOCK);
      rw.readLock(); // arrives while a writer waits: must let the writer go first
      const ticket = Atomics.add(m, W.SEQ, 1);
      const seen = m[W.COUNTER];
      rw.readUnlock();
      return { ticket, seen };
    }
  }
}

// Imported by the tests for W and Job; runs only inside a Worker.
if (!isMainThread) parentPort!.postMessage(run(workerData as Job));
