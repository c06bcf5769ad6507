import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../protocol/encode.ts';
import { delRecord, ownRecords, recordParts, setRecord, setTask } from './task.ts';

describe('shared: log records', () => {
  it('are the RESP arrays SET seq key value and DEL seq key, whatever the number of digits', () => {
    for (const seq of [0, 1, 9, 10, 99, 100, 12_345, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(setRecord(seq, Buffer.from('k'), Buffer.from('a value')), encodeCommand(['SET', String(seq), 'k', 'a value']));
      assert.deepEqual(delRecord(seq, Buffer.from([0, 255])), encodeCommand(['DEL', String(seq), Buffer.from([0, 255])]));
    }
  });

  it('travel to another thread with their own bytes only, once ownRecords() has copied them', () => {
    const tasks = [1, 2, 3].map((seq) => ({ seq, keyHash: seq, record: setRecord(seq, Buffer.from('key'), Buffer.from('value')) }));
    const sent = (records: Array<{ record: Uint8Array }>) => structuredClone(records).map((task) => task.record.buffer.byteLength);
    assert.ok(sent(tasks).every((bytes) => bytes >= 8192), 'a record as encoded is a view of the encoder\'s 8 KB buffer');
    const own = ownRecords(tasks);
    assert.deepEqual(sent(own), tasks.map((task) => task.record.length), 'copied: each carries just its bytes');
    assert.deepEqual(own.map((task) => Buffer.from(task.record)), tasks.map((task) => Buffer.from(task.record)));
    assert.deepEqual(own.map((task) => [task.seq, task.keyHash]), [[1, 1], [2, 2], [3, 3]]);
  });

  it('of a big value from the request parser (a whole SharedArrayBuffer) refer to it, and their parts are the same bytes as the copied record', () => {
    const bytes = Buffer.alloc(64 * 1024, 7);
    const parsed = Buffer.from(new SharedArrayBuffer(bytes.length));
    bytes.copy(parsed);
    const referred = setTask(5, 1, Buffer.from('k'), parsed);
    assert.equal(referred.value, parsed, 'not copied');
    assert.deepEqual(Buffer.concat(recordParts(referred)), setRecord(5, Buffer.from('k'), bytes));
    const [own] = ownRecords([referred]);
    assert.ok(structuredClone(own!).value?.buffer instanceof SharedArrayBuffer, 'shared with another thread, not copied');
    // Any other value is copied into the record: a Buffer someone could change, or a small one.
    for (const value of [Buffer.from(bytes), Buffer.from(new SharedArrayBuffer(10))]) {
      const copied = setTask(6, 1, Buffer.from('k'), value);
      assert.equal(copied.value, undefined);
      assert.deepEqual(Buffer.from(copied.record), setRecord(6, Buffer.from('k'), value));
    }
  });
});
