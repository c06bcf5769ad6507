import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCommand } from '../protocol/encode.ts';
import { delRecord, setRecord } from './task.ts';

describe('shared: log records', () => {
  it('are the RESP arrays SET seq key value and DEL seq key, whatever the number of digits', () => {
    for (const seq of [0, 1, 9, 10, 99, 100, 12_345, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(setRecord(seq, Buffer.from('k'), Buffer.from('a value')), encodeCommand(['SET', String(seq), 'k', 'a value']));
      assert.deepEqual(delRecord(seq, Buffer.from([0, 255])), encodeCommand(['DEL', String(seq), Buffer.from([0, 255])]));
    }
  });
});
