import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS } from '../options.ts';
import { writeReportPage } from '../html/write.ts';
import { chromiumAvailable, CHROMIUM, dumpDom, screenshot } from '../html/chromium.ts';

// The report page of a real run of step 02 (a Worker thread per connection,
// no lock), opened in headless Chromium: what a student sees. The contention
// scenario's barrier puts 8 POSTs of one fresh key inside step 02's 1 ms
// window, round after round: a double create every time in practice (16 of
// 20 rounds in tester/README.md), so the page always has a timeline to show.
// A screenshot of the page is written to a fresh folder under the system's
// tmp, printed.

const skip = chromiumAvailable() ? false : `${CHROMIUM} is not installed (apt-get install chromium): the page is not opened`;

test('report page of step 02: a lane per client, the marked operation, the sentence, no console error', { skip, timeout: 180_000 }, async (t) => {
  const report = await runTester({
    ...TESTER_DEFAULTS, step: '02', scenario: 'contention,load', contentionClients: 8, rounds: 20, loadClients: 4, count: 2000,
  });
  assert.equal(report.scenarios[0]!.verdict, 'FAIL', 'step 02 has no lock: contention must fail');
  const doubleCreate = report.scenarios[0]!.anomalies.find((a) => a.kind === 'double create');
  assert.ok(doubleCreate?.timelines?.length, `no double create with a timeline in ${JSON.stringify(report.scenarios[0]!.anomalies.map((a) => a.kind))}`);

  const folder = mkdtempSync(path.join(tmpdir(), 'kv-report-page-'));
  const file = path.join(folder, 'step-02.html');
  writeReportPage(file, [{ heading: 'step 02-threads', report }], 'tester report: step 02', 'report-page.test.ts');
  const page = await dumpDom(file);

  assert.deepEqual(page.consoleLines, [], 'the page logged to the console');
  assert.equal(page.errors, '', 'the page met an error');
  assert.ok(page.drawnMs > 0, 'the page script did not run to its end');

  // The first double create's timeline: one lane per client (all 8 POSTed),
  // one box per POST with its command and reply in the tooltip, one box outlined.
  const figures = [...page.dom.matchAll(/<figure id="timeline-\d+">([\s\S]*?)<\/figure>/g)].map((m) => m[1]!);
  const first = figures.find((f) => f.includes('double create on key'));
  assert.ok(first, 'no double create timeline on the page');
  const lanes = [...first.matchAll(/<g class="lane" data-client="(\d+)">/g)].map((m) => Number(m[1]));
  assert.deepEqual(lanes, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal([...first.matchAll(/<g class="op /g)].length, 8, 'a box per POST');
  assert.match(first, /<title>client \d: POST \S+ "client\d" → OK\nsent at [\d.]+ ms, answered at [\d.]+ ms/);
  const stuck = [...first.matchAll(/<g class="op outcome-(\w+) stuck" data-client="(\d+)" data-stuck="true"[^>]*>/g)];
  assert.equal(stuck.length, 1, 'exactly one operation marked as the one that cannot be placed');
  assert.equal(stuck[0]![1], 'ok', 'the marked operation is a POST that got OK');
  assert.match(first, /class="linearization"|class="lin-point"/, 'the longest linearization is drawn');
  // The checker's sentence, under the timeline.
  assert.match(first, /<p class="sentence"><strong>Cannot be placed:<\/strong> No order of the \d+ operations on key \S+ agrees with every reply\..*another create had already succeeded, so two clients each believe they created it\./);

  // The load scenario's pictures.
  assert.match(page.dom, /<figcaption>Latency histogram<\/figcaption><svg class="chart histogram"/);
  assert.match(page.dom, /<figcaption>Throughput over time<\/figcaption><div class="chart-box"><svg class="chart line-chart"/);
  assert.match(page.dom, /<figcaption>CPU and memory of the server's processes<\/figcaption>[\s\S]*?server \(pid \d+\)/);

  const png = path.join(folder, 'step-02.png');
  await screenshot(file, png, 1200);
  assert.ok(statSync(png).size > 10_000, 'the screenshot is (nearly) empty');
  t.diagnostic(`report page: ${file}`);
  t.diagnostic(`screenshot: ${png}`);
  console.log(`report page test: screenshot written to ${png}`);
});
