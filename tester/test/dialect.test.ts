import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NATIVE, REDIS } from '../dialect.ts';
import { checkKey } from '../checker/linearizability.ts';
import { explainViolation } from '../checker/explain.ts';
import { faultTimeline } from '../faults.ts';
import type { Operation, TimedOperation } from '../operations.ts';

// How each dialect names an operation for people: the command it sends, in
// the checker's sentences and the text timelines too.

const ops: Operation[] = [
  { kind: 'create', key: 'k', value: 'v1' },
  { kind: 'update', key: 'k', value: 'v2' },
  { kind: 'delete', key: 'k2' },
  { kind: 'read', key: 'k' },
  { kind: 'incr', key: 'n' },
];

test('describe: our command names, or the Redis commands sent (SET ... NX, SET ... XX, DEL)', () => {
  assert.deepEqual(ops.map((op) => NATIVE.describe(op)), ['POST k "v1"', 'PUT k "v2"', 'DELETE k2', 'GET k', 'INCR n']);
  assert.deepEqual(ops.map((op) => REDIS.describe(op)), ['SET k "v1" NX', 'SET k "v2" XX', 'DEL k2', 'GET k', 'INCR n']);
  assert.deepEqual(ops.map((op) => REDIS.command(op.kind)), ['SET NX', 'SET XX', 'DEL', 'GET', 'INCR']);
});

// A stale read: "v1" created, replaced by "v2" (answered), then a read sent later still sees "v1".
const history: TimedOperation[] = [
  { client: 1, op: { kind: 'create', key: 'k', value: 'v1' }, outcome: { kind: 'ok' }, invokedAt: 0, returnedAt: 1 },
  { client: 1, op: { kind: 'update', key: 'k', value: 'v2' }, outcome: { kind: 'ok' }, invokedAt: 2, returnedAt: 3 },
  { client: 2, op: { kind: 'read', key: 'k' }, outcome: { kind: 'value', value: 'v1' }, invokedAt: 4, returnedAt: 5 },
];

function violation() {
  const verdict = checkKey('k', history, Infinity, null);
  assert.equal(verdict.verdict, 'violation');
  return verdict.violation;
}

test('the checker\'s sentence and timeline name the commands of the dialect given, ours by default', () => {
  const native = explainViolation('k', violation(), 0);
  assert.deepEqual(explainViolation('k', violation(), 0, NATIVE.describe), native);
  assert.match(native.text, /written by client 1's POST k "v1", but client 1's PUT k "v2" -> OK had changed the key/);
  assert.match(native.timeline, /PUT k "v2" -> OK/);

  const redis = explainViolation('k', violation(), 0, REDIS.describe);
  assert.match(redis.text, /written by client 1's SET k "v1" NX, but client 1's SET k "v2" XX -> OK had changed the key/);
  assert.match(redis.timeline, /SET k "v1" NX -> OK/);
  assert.match(redis.timeline, /SET k "v2" XX -> OK/);
  assert.doesNotMatch(`${redis.text}\n${redis.timeline}`, /\b(POST|PUT)\b/);
});

test('the fault timeline names the commands of the dialect given, ours by default', () => {
  const faults = [{ from: 1.5, to: 4.5, label: 'link primary -> replica blackholed' }];
  const native = faultTimeline(history, faults, 0, history[2]);
  assert.match(native, /POST k "v1" -> OK/);
  const redis = faultTimeline(history, faults, 0, history[2], REDIS.describe);
  assert.match(redis, /SET k "v1" NX -> OK/);
  assert.match(redis, /SET k "v2" XX -> OK/);
  assert.match(redis, /GET k -> "v1"\n +\^+ cannot be placed($|\n)/);
  assert.match(redis, /link primary -> replica blackholed/);
  assert.doesNotMatch(redis, /\b(POST|PUT)\b/);
});
