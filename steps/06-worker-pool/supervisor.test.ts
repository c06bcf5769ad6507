import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MapStore } from '../../shared/store/map-store.ts';
import { RecordingStore, newSequence } from '../../shared/persistence/recording-store.ts';
import { replayLogs } from '../../shared/persistence/replay.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { until } from '../../tester/harness/until.ts';
import { Persister, type PersisterOptions } from '../04-ipc-queue/persister.ts';
import { BY_KEY } from '../05-workers/dispatch/by-key.ts';
import { FREE } from '../05-workers/dispatch/free.ts';
import { restartEveryWorker } from './supervisor.ts';

// Supervision (step 06): a worker process that dies is restarted on its own
// log, and every task it had not acknowledged is written exactly once.

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'supervision-'));

function options(dataDir: string, more: Partial<PersisterOptions> = {}, onRestart?: () => void): PersisterOptions {
  return {
    dataDir, workers: 2, dispatch: BY_KEY, capacity: 100_000, durable: false, taskCpuMs: 0, firstSeq: 1,
    supervisor: restartEveryWorker(onRestart === undefined ? {} : { onRestart }), ...more,
  };
}

function replayed(dataDir: string, workers: number) {
  const store = new MapStore();
  const result = replayLogs(dataDir, BY_KEY.logFiles(workers), store);
  return { store, result };
}

const asText = (store: { entries(): Array<[Buffer, Buffer]> }) =>
  new Map(store.entries().map(([k, v]) => [k.toString(), v.toString()]));

describe('step 06: supervision of the worker processes', () => {
  for (const durable of [false, true]) {
    it(`${durable ? 'durable: ' : ''}a worker killed with SIGKILL mid-stream is restarted; every task is in the log once, in order`, async () => {
      const dir = tempDir();
      const memory = new RecordingStore(new MapStore(), newSequence(1));
      const restarts: number[] = [];
      // 0.2 ms of work per task: the worker always has batches in hand when it is killed.
      const persister = await Persister.start({
        ...options(dir, { durable, taskCpuMs: 0.2 }),
        supervisor: restartEveryWorker({ onRestart: (index) => restarts.push(index) }),
      });
      const victim = persister.workerPids()[0]!;
      const submits: Array<Promise<void>> = [];
      for (let i = 0; i < 3000; i++) {
        memory.set(Buffer.from(`key${i % 300}`), Buffer.from(`value${i}`));
        submits.push(persister.submit(memory.takeTasks()));
        if (i === 1000) {
          await until(() => persister.stats().tasks_written > 100, 'the workers have written something', 20_000);
          process.kill(victim, 'SIGKILL');
        }
        if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(submits);
      await persister.close();
      assert.deepEqual(restarts, [0]);
      assert.equal(persister.stats().worker_restarts, 1);
      assert.ok(processGone(victim));
      const { store, result } = replayed(dir, 2);
      assert.equal(result.records, 3000, 'each task once: none lost, none written twice');
      assert.equal(result.outOfOrder, 0);
      assert.deepEqual(asText(store), asText(memory));
    });
  }

  it('a record the dead worker half wrote is cut off before the restart', async () => {
    const dir = tempDir();
    const memory = new RecordingStore(new MapStore(), newSequence(1));
    let restarted = () => {};
    const restart = new Promise<void>((resolve) => { restarted = resolve; });
    // 100 ms of work per task: the worker is surely busy when it is killed.
    const persister = await Persister.start(options(dir, { workers: 1, taskCpuMs: 100 }, () => restarted()));
    memory.set(Buffer.from('a'), Buffer.from('first'));
    await persister.submit(memory.takeTasks());
    await until(() => persister.stats().tasks_written === 1, 'the first task is written');
    memory.set(Buffer.from('b'), Buffer.from('second'));
    await persister.submit(memory.takeTasks());
    await new Promise((resolve) => setImmediate(resolve)); // the batch has left for the worker
    // Pretend the worker had appended half of its record when it died.
    const file = path.join(dir, 'log.aof');
    appendFileSync(file, '*4\r\n$3\r\nSET\r\n$1\r\n2\r\n$1\r\nb\r\n$6\r\nsec');
    process.kill(persister.workerPids()[0]!, 'SIGKILL');
    await restart;
    await persister.close();
    assert.doesNotMatch(readFileSync(file, 'latin1'), /sec\*4/, 'the half record is gone');
    const { store, result } = replayed(dir, 1);
    assert.equal(result.records, 2);
    assert.equal(result.truncatedBytes, 0);
    assert.deepEqual(asText(store), new Map([['a', 'first'], ['b', 'second']]));
  });

  it('refuses to supervise free dispatch with several workers (one shared log)', async () => {
    await assert.rejects(Persister.start(options(tempDir(), { dispatch: FREE })), /a log per worker/);
  });
});
