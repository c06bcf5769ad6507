import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkKey } from '../checker/linearizability.ts';
import { keyTimeline, sparkline, throughput } from '../pictures.ts';
import { renderPage } from '../html/page.ts';
import type { TimedOperation } from '../operations.ts';
import type { TesterReport } from '../report.ts';

// What the report page draws, without a browser: the data of a timeline made
// from a checker's violation, the throughput and its sparkline, and the page's
// markup (the browser test is report-page.test.ts).

// Client 1 and 2 both create k at the same time and both get OK; client 3
// reads afterwards.
const history: TimedOperation[] = [
  { client: 1, op: { kind: 'create', key: 'k', value: '1' }, outcome: { kind: 'ok' }, invokedAt: 10, returnedAt: 20 },
  { client: 2, op: { kind: 'create', key: 'k', value: '2' }, outcome: { kind: 'ok' }, invokedAt: 11, returnedAt: 21 },
  { client: 3, op: { kind: 'read', key: 'k' }, outcome: { kind: 'value', value: '2' }, invokedAt: 30, returnedAt: 31 },
];

function doubleCreate() {
  const verdict = checkKey('k', history, Infinity, null);
  assert.equal(verdict.verdict, 'violation');
  if (verdict.verdict !== 'violation') throw new Error('unreachable');
  return keyTimeline('k', verdict.violation, 10, 'the sentence');
}

test('keyTimeline: every operation, times from the origin, the linearization and the stuck one as indexes', () => {
  const timeline = doubleCreate();
  assert.equal(timeline.operations.length, 3);
  assert.deepEqual(timeline.operations[0], { client: 1, command: 'POST k "1"', reply: 'OK', outcome: 'ok', sentAt: 0, answeredAt: 10 });
  assert.equal(timeline.linearization.length, 1, 'one create fits, the second cannot');
  const stuck = timeline.operations[timeline.stuck]!;
  assert.equal(stuck.command.startsWith('POST'), true);
  assert.notEqual(timeline.stuck, timeline.linearization[0]);
  assert.equal(timeline.total, 3);
});

test('throughput and sparkline: counts per interval, merged to fit, ▁ for none and █ for the most', () => {
  const series = throughput([5, 15, 16, 17, 25, 99.9], 10, 100);
  assert.deepEqual(series.counts, [1, 3, 1, 0, 0, 0, 0, 0, 0, 1]);
  const spark = sparkline(series, 10);
  assert.equal(spark.line, '▃█▃▁▁▁▁▁▁▃');
  assert.equal(spark.max, 300);
  const merged = sparkline(series, 5);
  assert.equal(merged.line.length, 5);
  assert.equal(merged.intervalMs, 20);
});

test('renderPage: a lane per client, a box per operation with its tooltip, the stuck one marked, the sentence; text escaped', () => {
  const timeline = { ...doubleCreate(), sentence: 'it read <b>"x"</b>' };
  const report: TesterReport = {
    target: 'a <server>', dialect: 'native', randomSeed: 1, verdict: 'FAIL', exitCode: 1,
    scenarios: [{
      name: 'linearizability', verdict: 'FAIL', description: 'd', figures: { operations: 3 }, details: [],
      anomalies: [{ kind: 'double create', count: 1, meaning: 'm', samples: ['it read <b>"x"</b>\ntext timeline'], timelines: [timeline] }],
    }],
  };
  const html = renderPage([{ heading: 'fixture', report }], { title: 't', command: 'c', generatedAt: 'now' });
  assert.deepEqual([...html.matchAll(/<g class="lane" data-client="(\d)">/g)].map((m) => m[1]), ['1', '2', '3']);
  assert.equal([...html.matchAll(/<g class="op /g)].length, 3);
  assert.equal([...html.matchAll(/data-stuck="true"/g)].length, 1);
  assert.match(html, /<title>client 3: GET k → &quot;2&quot;\nsent at 20\.000 ms, answered at 21\.000 ms<\/title>/);
  assert.match(html, /<p class="sentence"><strong>Cannot be placed:<\/strong> it read &lt;b&gt;&quot;x&quot;&lt;\/b&gt;<\/p>/);
  assert.ok(!html.includes('<pre class="sample">it read'), 'the sample that is the sentence is not shown twice');
  assert.ok(!html.includes('<server>') && !html.includes('<b>'), 'text from the run is escaped');
  assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(html.replace(/<a [^>]*>/g, '')), 'the page loads nothing from the network');
});
