import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { MapStore } from '../../shared/store/map-store.ts';
import { ONE_WORKER, Persister, type PersisterOptions } from './persister.ts';
import { RecordingStore, newSequence } from '../../shared/persistence/recording-store.ts';
import { replayLogs } from '../../shared/persistence/replay.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { until } from '../../tester/harness/until.ts';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'persister-'));

function options(dataDir: string, more: Partial<PersisterOptions> = {}): PersisterOptions {
  return { dataDir, workers: 1, dispatch: ONE_WORKER, capacity: 1000, durable: false, taskCpuMs: 0, firstSeq: 1, ...more };
}

function replayed(dataDir: string) {
  const store = new MapStore();
  const result = replayLogs(dataDir, ONE_WORKER.logFiles(1), store);
  return { store, result };
}

describe('step 04: persister (a worker process over IPC)', () => {
  it('writes every submitted task to the log, in order, and close() waits for it', async () => {
    const dir = tempDir();
    const memory = new RecordingStore(new MapStore(), newSequence(1));
    const persister = await Persister.start(options(dir));
    for (let i = 0; i < 2000; i++) {
      memory.set(Buffer.from(`key${i % 100}`), Buffer.from(`value${i}`));
      if (i % 7 === 0) void persister.submit(memory.takeTasks());
    }
    void persister.submit(memory.takeTasks());
    await persister.close();
    const { store, result } = replayed(dir);
    assert.equal(result.records, 2000);
    assert.equal(result.outOfOrder, 0);
    assert.deepEqual(new Map(store.entries().map(([k, v]) => [k.toString(), v.toString()])),
      new Map(memory.entries().map(([k, v]) => [k.toString(), v.toString()])));
  });

  it('offer() accepts at once (null) while there is room, and returns a promise when the queue is full or a task is early', async () => {
    const dir = tempDir();
    const memory = new RecordingStore(new MapStore(), newSequence(1));
    const persister = await Persister.start(options(dir, { capacity: 2 }));
    memory.set(Buffer.from('a'), Buffer.from('1'));
    const first = memory.takeTasks();
    memory.set(Buffer.from('b'), Buffer.from('2'));
    const early = memory.takeTasks();
    const held = persister.offer(early); // number 2 before number 1: the sequencer holds it
    assert.ok(held instanceof Promise);
    assert.equal(persister.offer(first), null, 'room in the queue: accepted at once');
    // No worker has answered yet (that needs a turn of the event loop): the queue holds 2 of 2.
    assert.equal(persister.stats().queue_depth, 2);
    memory.set(Buffer.from('c'), Buffer.from('3'));
    memory.set(Buffer.from('d'), Buffer.from('4'));
    memory.set(Buffer.from('e'), Buffer.from('5'));
    const tooMany = persister.offer(memory.takeTasks());
    assert.ok(tooMany instanceof Promise, 'a full queue makes the producer wait');
    await Promise.all([held, tooMany]);
    await persister.close();
    assert.equal(replayed(dir).result.records, 5);
  });

  it('restores apply order when tasks are submitted out of order', async () => {
    const dir = tempDir();
    const memory = new RecordingStore(new MapStore(), newSequence(1));
    memory.set(Buffer.from('k'), Buffer.from('first'));
    const first = memory.takeTasks();
    memory.set(Buffer.from('k'), Buffer.from('second'));
    const second = memory.takeTasks();
    const persister = await Persister.start(options(dir));
    const late = persister.submit(second); // the later write's message arrives first
    assert.equal(persister.stats().sequencer_holding, 1);
    await Promise.all([persister.submit(first), late]);
    await persister.close();
    assert.equal(readFileSync(path.join(dir, 'log.aof'), 'latin1').indexOf('first') <
      readFileSync(path.join(dir, 'log.aof'), 'latin1').indexOf('second'), true);
    assert.deepEqual(replayed(dir).store.get(Buffer.from('k')), Buffer.from('second'));
  });

  it('with a slow worker, submit waits once the queue is full (backpressure)', async () => {
    const dir = tempDir();
    const memory = new RecordingStore(new MapStore(), newSequence(1));
    const persister = await Persister.start(options(dir, { capacity: 10, taskCpuMs: 20 }));
    const settled: boolean[] = [];
    const submits = [];
    for (let i = 0; i < 30; i++) {
      memory.set(Buffer.from(`k${i}`), Buffer.from('v'));
      const index = i;
      submits.push(persister.submit(memory.takeTasks()).then(() => { settled[index] = true; }));
    }
    await submits[9]; // the first ten fit at once
    assert.equal(settled[29], undefined, 'the 30th write must wait for room');
    assert.ok(persister.stats().queue_depth <= 10, `depth ${persister.stats().queue_depth} exceeds the capacity`);
    assert.ok(persister.stats().queue_blocked > 0);
    await Promise.all(submits);
    await persister.close();
    assert.equal(persister.stats().queue_depth_max, 10);
    assert.equal(replayed(dir).result.records, 30);
  });

  it('tasks the sequencer releases together never take the queue past its capacity', async () => {
    // Seven threads' writes arrive before the one numbered first: the sequencer
    // holds them, then releases all eight at once into an empty queue of 3.
    const dir = tempDir();
    const memory = new RecordingStore(new MapStore(), newSequence(1));
    const persister = await Persister.start(options(dir, { capacity: 3 }));
    const tasks = Array.from({ length: 8 }, (_, i) => {
      memory.set(Buffer.from(`k${i}`), Buffer.from('v'));
      return memory.takeTasks();
    });
    const submits = tasks.slice(1).map((early) => persister.submit(early));
    submits.push(persister.submit(tasks[0]!));
    const depth = persister.stats().queue_depth;
    await Promise.all(submits);
    await persister.close();
    assert.equal(depth, 3, 'three admitted, the rest wait their turn');
    assert.equal(persister.stats().queue_depth_max, 3);
    assert.equal(replayed(dir).result.records, 8);
  });

  it('durable: submit resolves only after the worker wrote the task', async () => {
    const dir = tempDir();
    const memory = new RecordingStore(new MapStore(), newSequence(1));
    const persister = await Persister.start(options(dir, { durable: true }));
    memory.set(Buffer.from('k'), Buffer.from('on disk'));
    await persister.submit(memory.takeTasks());
    // The worker acknowledged: the record is in the file now, before close().
    assert.match(readFileSync(path.join(dir, 'log.aof'), 'latin1'), /on disk/);
    assert.equal(persister.stats().tasks_written, 1);
    await persister.close();
  });

  it('the worker process exits when the process that started it is killed with SIGKILL', async () => {
    const fixture = new URL('./hold-persister.fixture.ts', import.meta.url);
    const holder = spawn(process.execPath, ['--import', 'tsx', fixture.pathname, tempDir()], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((resolve) => createInterface({ input: holder.stdout! }).once('line', resolve));
    const pids = JSON.parse(line) as number[];
    assert.equal(pids.length, 1);
    assert.ok(pids.every((pid) => !processGone(pid)), 'the worker process runs');
    // The worker process shares the holder's stderr pipe: it closes only when every
    // process holding it has exited - an event, no polling.
    const stderrClosed = new Promise((resolve) => holder.stderr!.on('close', resolve).resume());
    holder.kill('SIGKILL');
    await stderrClosed;
    // A process closes its files a moment before the kernel marks it ended
    // (a zombie): wait for that with a deadline instead of asking once.
    for (const pid of pids) await until(() => processGone(pid), `worker ${pid} has ended after its server`);
  });
});
