import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHistory } from '../checker/linearizability.ts';
import { explainViolation } from '../checker/explain.ts';
import type { OpKind, Outcome, TimedOperation } from '../operations.ts';

// Small hand-made histories, drawn as timelines in the comments (time flows
// right; each operation is in flight between its two brackets).

function op(client: number, kind: OpKind, value: string | undefined, outcome: Outcome, invokedAt: number, returnedAt: number, key = 'k'): TimedOperation {
  return { client, op: { kind, key, value }, outcome, invokedAt, returnedAt };
}
const OK: Outcome = { kind: 'ok' };
const EXISTS: Outcome = { kind: 'exists' };
const read = (value: string | null): Outcome => ({ kind: 'value', value });
const int = (value: number): Outcome => ({ kind: 'integer', value });
const check = (history: TimedOperation[]) => checkHistory(history, { timeLimitMs: 5000 });

test('tester checker: a sequential history that a correct server gives is linearizable', () => {
  // 1 [POST a]  [GET -> a]  [PUT b]  [GET -> b]  [DELETE]  [GET -> nil]
  const result = check([
    op(1, 'create', 'a', OK, 0, 1), op(1, 'read', undefined, read('a'), 2, 3),
    op(1, 'update', 'b', OK, 4, 5), op(1, 'read', undefined, read('b'), 6, 7),
    op(1, 'delete', undefined, OK, 8, 9), op(1, 'read', undefined, read(null), 10, 11),
  ]);
  assert.equal(result.verdict, 'linearizable');
});

test('tester checker: a read overlapping a write may see the old or the new value', () => {
  // 1 [PUT b.........]
  // 2    [GET -> b]        (the write took effect first)
  // 3       [GET -> a]     (also fine while the write is in flight)
  // Only "2 sees b, then 3 sees a" is impossible: that is the next test.
  for (const [second, third] of [['b', 'b'], ['a', 'a'], ['a', 'b']]) {
    const result = check([
      op(1, 'create', 'a', OK, 0, 1),
      op(1, 'update', 'b', OK, 2, 10),
      op(2, 'read', undefined, read(second!), 3, 5),
      op(3, 'read', undefined, read(third!), 6, 8),
    ]);
    assert.equal(result.verdict, 'linearizable', `reads ${second}, ${third}`);
  }
});

test('tester checker: a read that goes back in time (new, then old) is not linearizable', () => {
  // 1 [PUT b..............]
  // 2    [GET -> b]
  // 3               [GET -> a]    (after 2 saw b, nobody may see a again)
  const result = check([
    op(1, 'create', 'a', OK, 0, 1),
    op(1, 'update', 'b', OK, 2, 20),
    op(2, 'read', undefined, read('b'), 3, 5),
    op(3, 'read', undefined, read('a'), 6, 8),
  ]);
  assert.equal(result.verdict, 'violation');
});

test('tester checker: a stale read is a violation, explained as a stale read', () => {
  // 1 [POST a] [PUT b]
  // 2                  [GET -> a]
  const history = [
    op(1, 'create', 'a', OK, 0, 1),
    op(1, 'update', 'b', OK, 2, 3),
    op(2, 'read', undefined, read('a'), 4, 5),
  ];
  const result = check(history);
  assert.equal(result.verdict, 'violation');
  const key = result.keys[0]!;
  assert.equal(key.verdict, 'violation');
  if (key.verdict !== 'violation') return;
  assert.equal(key.violation.stuck, history[2]);
  const explanation = explainViolation('k', key.violation, 0);
  assert.equal(explanation.kind, 'stale read');
  assert.match(explanation.text, /client 2's GET k -> "a"/);
  assert.match(explanation.text, /client 1's PUT k "b" -> OK had changed the key before this read was sent/);
  // The timeline marks it on the line under its row, a ^ under each = of its bar.
  const rows = explanation.timeline.split('\n');
  const row = rows.findIndex((line) => line.endsWith('|  GET k -> "a"'));
  assert.ok(row >= 0, explanation.timeline);
  const mark = rows[row + 1] ?? '';
  assert.match(mark, /^ +\^+ cannot be placed$/, explanation.timeline);
  const under = (char: string) => [...rows[row]!].flatMap((c, i) => (c === char ? [i] : []));
  assert.deepEqual([...mark].flatMap((c, i) => (c === '^' ? [i] : [])), under('='), explanation.timeline);
});

test('tester checker: two overlapping creates that both succeed are a double create', () => {
  // 1 [POST x -> OK]
  // 2   [POST y -> OK]
  // 3 [POST z -> ALREADY_EXISTS]
  const result = check([
    op(1, 'create', 'x', OK, 0, 5), op(2, 'create', 'y', OK, 1, 6), op(3, 'create', 'z', EXISTS, 0, 4),
  ]);
  assert.equal(result.verdict, 'violation');
  const key = result.keys[0]!;
  if (key.verdict !== 'violation') assert.fail('expected a violation');
  assert.equal(explainViolation('k', key.violation, 0).kind, 'double create');
});

test('tester checker: concurrent increments must all return different numbers', () => {
  const fine = check([op(1, 'incr', undefined, int(2), 0, 5), op(2, 'incr', undefined, int(1), 1, 6)]);
  assert.equal(fine.verdict, 'linearizable');
  const lost = check([op(1, 'incr', undefined, int(1), 0, 5), op(2, 'incr', undefined, int(1), 1, 6)]);
  assert.equal(lost.verdict, 'violation');
  if (lost.keys[0]!.verdict !== 'violation') assert.fail('expected a violation');
  assert.equal(explainViolation('k', lost.keys[0]!.violation, 0).kind, 'lost update');
});

test('tester checker: an operation with no reply may have taken effect, or not', () => {
  const lostReply: Outcome = { kind: 'noreply', text: 'connection closed' };
  for (const seen of ['a', null]) {
    const result = check([op(1, 'create', 'a', lostReply, 0, Infinity), op(2, 'read', undefined, read(seen), 5, 6)]);
    assert.equal(result.verdict, 'linearizable', `read ${seen}`);
  }
  // ...but it cannot make up a value it never wrote.
  const result = check([op(1, 'create', 'a', lostReply, 0, Infinity), op(2, 'read', undefined, read('zzz'), 5, 6)]);
  assert.equal(result.verdict, 'violation');
});

test('tester checker: keys are checked separately, and only the bad key is reported', () => {
  const result = check([
    op(1, 'create', 'a', OK, 0, 1, 'good'), op(2, 'read', undefined, read('a'), 2, 3, 'good'),
    op(1, 'create', 'a', OK, 0, 1, 'bad'), op(2, 'read', undefined, read(null), 2, 3, 'bad'),
  ]);
  assert.equal(result.verdict, 'violation');
  assert.deepEqual(result.keys.map((k) => [k.key, k.verdict]), [['bad', 'violation'], ['good', 'linearizable']]);
});

test('tester checker: out of time is unknown, never linearizable', () => {
  // 20 overlapping writes and then a read of a value nobody wrote: proving that
  // no order works means trying millions of (set, state) pairs.
  const history = [op(0, 'create', 'a', OK, 0, 1)];
  history.push(...Array.from({ length: 20 }, (_, i) => op(i + 1, 'update', `v${i}`, OK, 2, 10)));
  history.push(op(99, 'read', undefined, read('nobody wrote this'), 11, 12));
  const result = checkHistory(history, { timeLimitMs: 20 });
  assert.equal(result.verdict, 'unknown');
  assert.match((result.keys[0] as { reason: string }).reason, /time limit/);
});

test('tester checker: an INCR that overwrote a POST is explained by that POST, not as two increments', () => {
  // 1 [POST k "30017"]
  // 2                   [INCR k -> 1]   (it worked on the key as if absent: the POST was overwritten)
  const history = [op(1, 'create', '30017', OK, 0, 1), op(2, 'incr', undefined, int(1), 2, 3)];
  const result = check(history);
  if (result.keys[0]!.verdict !== 'violation') assert.fail('expected a violation');
  const explanation = explainViolation('k', result.keys[0]!.violation, 0);
  assert.equal(explanation.kind, 'lost update');
  assert.doesNotMatch(explanation.text, /two increments/);
  assert.match(explanation.text, /client 1's POST k "30017" -> OK/);
  assert.match(explanation.text, /as if the key were absent/);
  assert.match(explanation.timeline, /POST k "30017" -> OK/);
});

test('tester checker: two INCRs that return the same number are explained as two increments of one old value', () => {
  const history = [op(1, 'incr', undefined, int(1), 0, 5), op(2, 'incr', undefined, int(1), 1, 6)];
  const result = check(history);
  if (result.keys[0]!.verdict !== 'violation') assert.fail('expected a violation');
  const explanation = explainViolation('k', result.keys[0]!.violation, 0);
  assert.match(explanation.text, /client \d's INCR k -> 1 had already returned 1: two increments read the same old value/);
});
