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

test('renderPage: the marked operation\'s whole label (command and reply) in its callout, however narrow its box', () => {
  const timeline = doubleCreate();
  const report: TesterReport = {
    target: 't', dialect: 'native', randomSeed: 1, verdict: 'FAIL', exitCode: 1,
    scenarios: [{
      name: 'linearizability', verdict: 'FAIL', description: 'd', figures: {}, details: [],
      anomalies: [{ kind: 'double create', count: 1, meaning: 'm', samples: ['s'], timelines: [timeline] }],
    }],
  };
  const html = renderPage([{ heading: 'fixture', report }], { title: 't', command: 'c', generatedAt: 'now' });
  const stuck = timeline.operations[timeline.stuck]!;
  const callout = /<text class="stuck-label" x="([\d.]+)"[^>]*>([^<]*)<\/text>/.exec(html);
  assert.ok(callout, 'a callout over the marked box');
  assert.equal(callout[2], `cannot be placed: POST &quot;${stuck.command.split('"')[1]}&quot; → OK`);
  const svgWidth = Number(/<svg class="timeline"[^>]* width="(\d+)"/.exec(html)![1]);
  assert.ok(svgWidth >= Number(callout[1]) + callout[2]!.replace(/&quot;/g, '"').length * 7, 'the timeline is wide enough for the callout');
});

test('renderPage: the throughput axis ends at the run\'s end, the latency labels turn when they would not fit side by side', () => {
  const limitsMs = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, Infinity];
  const report: TesterReport = {
    target: 't', dialect: 'native', randomSeed: 1, verdict: 'SUCCESS', exitCode: 0,
    scenarios: [{
      name: 'load', verdict: 'SUCCESS', description: 'd', figures: {}, details: [], anomalies: [],
      pictures: {
        latency: { limitsMs, counts: limitsMs.map(() => 10) },
        throughput: { intervalMs: 100, counts: new Array<number>(50).fill(100) }, // a 5 s run
      },
    }],
  };
  const html = renderPage([{ heading: 'fixture', report }], { title: 't', command: 'c', generatedAt: 'now' });
  const lineChart = html.slice(html.indexOf('class="chart line-chart"'));
  const xTicks = [...lineChart.matchAll(/<text class="tick" x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)];
  assert.deepEqual(xTicks.map((m) => m[2]), ['0', '2', '4', '5']);
  assert.equal(Number(xTicks.at(-1)![1]), 560 - 12, 'the last tick, 5 s, is at the right end of the axis');
  const histogram = html.slice(html.indexOf('class="chart histogram"'), html.indexOf('class="chart line-chart"'));
  assert.equal([...histogram.matchAll(/class="tick tick-turned"[^>]*rotate\(-40\)/g)].length, 11, 'eleven buckets: every label turned');
});
