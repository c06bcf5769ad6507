import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { setRecord } from '../../../shared/persistence/task.ts';
import { describeReply } from '../../../shared/protocol/reply.ts';
import { until } from '../../../tester/harness/until.ts';
import { ReplicationPrimary } from './primary.ts';

// The primary's stream when a sequence number never comes (a write handed to
// the persister but not to the stream: the bug active expiry had). The server
// cannot make one any more (server.ts's persistAndReplicate), so the stream
// is driven here by hand.

const BOUNDED = { timeout: 30_000 };

function stalledPrimary(warnings: string[]): ReplicationPrimary {
  const primary = new ReplicationPrimary({
    firstSeq: 1,
    snapshot: () => ({ entries: [], nextSeq: 3 }),
    nextSeq: () => 3, // writes 1 and 2 were numbered
    backlogBytes: 16 * 1024,
    outputLimitBytes: 1024 * 1024,
    stallWarnMs: 50,
    warn: (message) => warnings.push(message),
  });
  primary.feed([{ seq: 2, keyHash: 0, record: setRecord(2, Buffer.from('y'), Buffer.from('2')) }]); // 1 is missing
  return primary;
}

describe('replication: a hole in the sequence numbers', () => {
  it('is said loudly in the log once it has lasted, and again when the missing write comes', BOUNDED, async () => {
    const warnings: string[] = [];
    const primary = stalledPrimary(warnings);
    try {
      await until(() => warnings.length > 0, 'the stall warning', 10_000);
      assert.match(warnings[0]!, /^replication: THE STREAM IS STALLED: write #1 has not reached it for \d+ ms, and 1 later writes wait behind it/);
      assert.equal(primary.info().repl_stream_holding, 1);
      primary.feed([{ seq: 1, keyHash: 0, record: setRecord(1, Buffer.from('x'), Buffer.from('1')) }]);
      await until(() => warnings.length > 1, 'the all-clear', 10_000);
      assert.match(warnings[1]!, /^replication: the stream goes on: write #1 came after \d+ ms$/);
      assert.equal(primary.info().repl_stream_holding, 0);
      assert.equal(warnings.length, 2, 'said once each');
    } finally {
      primary.close();
    }
  });

  it('WAIT with a timeout still answers (0: no replica can have writes that are not in the stream)', BOUNDED, async () => {
    const primary = stalledPrimary([]);
    try {
      const answer = primary.answer([Buffer.from('WAIT'), Buffer.from('0'), Buffer.from('200')], new Socket());
      assert.ok(answer !== null && 'later' in answer, 'WAIT replies later');
      const started = Date.now();
      assert.equal(describeReply(await answer.later()), '(integer) 0');
      assert.ok(Date.now() - started >= 190, 'after its timeout');
    } finally {
      primary.close();
    }
  });
});
