import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MapStore } from '../store/map-store.ts';
import { until } from '../../tester/harness/until.ts';
import type { WorkerMessage } from './log-worker.ts';
import { replayLogs } from './replay.ts';
import { recordParts, setTask, type PersistTask } from './task.ts';
import { PIECE_BYTES, WorkerProcess, forkLogWorker } from './worker-process.ts';

// Batches to a real log worker process through WorkerProcess.transmit: a big
// value referred to by its task (not copied into the record) goes in pieces,
// a batch sent meanwhile waits behind it, and the log replays to the bytes
// and the order that were sent.

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A value as the request parser hands a big argument over: the whole of a SharedArrayBuffer. */
function parsedValue(bytes: Buffer): Buffer {
  const value = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(value);
  return value;
}

describe('shared: a log worker process fed through WorkerProcess.transmit', () => {
  it('gets big values in pieces and small batches behind them, and its log replays to every byte, in order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kv-transmit-'));
    dirs.push(dir);
    const file = path.join(dir, 'log.aof');
    const worker = new WorkerProcess(await forkLogWorker(file, { taskCpuMs: 0 }), file);
    const acks: number[] = [];
    worker.child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ack') acks.push(message.id);
    });
    const first = randomBytes(3 * PIECE_BYTES + 17);
    const second = randomBytes(2 * PIECE_BYTES + 5);
    const key = (name: string) => Buffer.from(name);
    const bigTask = setTask(1, 0, key('big'), parsedValue(first));
    assert.ok(bigTask.value !== undefined && bigTask.record.length < 100, 'the task refers to the value, its record is the bytes before it');
    const batches: PersistTask[][] = [
      [bigTask, setTask(2, 0, key('small'), Buffer.from('one'))],
      [setTask(3, 0, key('big'), Buffer.from('overwritten'))], // must land after the 3 MB
      [setTask(4, 0, key('second'), parsedValue(second)), setTask(5, 0, key('small'), Buffer.from('two'))],
      [setTask(6, 0, key('last'), Buffer.from('!'))],
    ];
    const delivered: number[] = [];
    batches.forEach((tasks, id) => {
      worker.transmit({ type: 'batch', id, count: tasks.length, sync: false }, tasks.flatMap(recordParts), (failed) => {
        assert.equal(failed, null, `batch ${id} reached the channel`);
        delivered.push(id);
      });
    });
    await until(() => acks.length === batches.length, 'every batch acknowledged');
    assert.deepEqual(acks, [0, 1, 2, 3], 'acknowledged in the order sent');
    assert.deepEqual(delivered, [0, 1, 2, 3], 'in the channel in the order sent');
    const exited = new Promise((resolve) => worker.child.once('exit', resolve));
    worker.child.disconnect();
    await exited;

    const store = new MapStore();
    const result = replayLogs(dir, ['log.aof'], store);
    assert.equal(result.records, 6);
    assert.equal(result.truncatedBytes, 0, 'no record cut short');
    assert.equal(store.get(key('big'))?.toString(), 'overwritten', 'the small batch sent behind the big one is written after it');
    assert.ok(store.get(key('second'))?.equals(second), 'the second big value, byte for byte');
    assert.equal(store.get(key('small'))?.toString(), 'two');
    assert.equal(store.get(key('last'))?.toString(), '!');
  });
});
