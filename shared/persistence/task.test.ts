import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../protocol/encode.ts';
import { delRecord, ownRecords, setRecord } from './task.ts';

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
});
