import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS } from '../options.ts';
import { DEFAULT_HTML, reportPagePath, writeReportPage } from '../html/write.ts';
import { chromiumAvailable, CHROMIUM, dumpDom, screenshot } from '../html/chromium.ts';
import { processRole } from '../proc-stats.ts';

// The report page of a real run of step 02 (a Worker thread per connection,
// no lock), opened in headless Chromium: what a student sees. The contention
// scenario's barrier puts 8 POSTs of one fresh key inside step 02's 1 ms
// window, round after round: a double create every time in practice (16 of
// 20 rounds in tester/README.md), so the page always has a timeline to show.
// The page and a screenshot of it are written where the tester writes its
// pages, reports/ at the top of the repository (ignored by git), named by
// the time and the test's pid (a new pair per run, as the tester's pages),
// and their paths printed as the test's diagnostics (`# screenshot: ...`).

const skip = chromiumAvailable() ? false : `${CHROMIUM} is not installed (apt-get install chromium): the page is not opened`;

test('report page of step 02: a lane per client, the marked operation, the sentence, no console error', { skip, timeout: 180_000 }, async (t) => {
  const report = await runTester({
    ...TESTER_DEFAULTS, step: '02', scenario: 'contention,load', contentionClients: 8, rounds: 20, loadClients: 4, count: 2000,
  });
  assert.equal(report.scenarios[0]!.verdict, 'FAIL', 'step 02 has no lock: contention must fail');
  const doubleCreate = report.scenarios[0]!.anomalies.find((a) => a.kind === 'double create');
  assert.ok(doubleCreate?.timelines?.length, `no double create with a timeline in ${JSON.stringify(report.scenarios[0]!.anomalies.map((a) => a.kind))}`);

  const file = reportPagePath(DEFAULT_HTML, 'report-page-test-step-02')!;
  const shown = writeReportPage(file, [{ heading: 'step 02-threads', report }], 'tester report: step 02', 'report-page.test.ts');
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
  // Every box of every timeline on the page has its tooltip: the client, the command, the reply, the times.
  const boxes = [...page.dom.matchAll(/<g class="op [^>]*>(<title>[^<]*<\/title>)?/g)];
  assert.ok(boxes.length >= 8, `only ${boxes.length} boxes on the page`);
  const untitled = boxes.filter((m) => !/^<title>client \d+: (POST|INCR|DELETE) \S+.* → \S+.*\nsent at [\d.]+ ms, answered at [\d.]+ ms/.test(m[1] ?? ''));
  assert.deepEqual(untitled.map((m) => m[0]), [], 'boxes without a tooltip of command and reply');
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

  const png = file.replace(/\.html$/, '.png');
  await screenshot(file, png, 1200);
  assert.ok(statSync(png).size > 10_000, 'the screenshot is (nearly) empty');
  // As writeReportPage says a path: from where the tests were started when inside it.
  const pngShown = shown === file ? png : path.join(path.dirname(shown), path.basename(png));
  t.diagnostic(`report page: ${shown}`);
  t.diagnostic(`screenshot: ${pngShown}`);
});

// Steps 04 to 06 write their logs in worker processes: the CPU and memory
// chart has a line per process, each named by what it runs (read from
// /proc/PID/cmdline), not one sum.
const noProc = process.platform === 'linux' ? false : 'no /proc here: no CPU and memory per process';

test('report page of step 06: the CPU and memory of the server and of each log worker process', { skip: noProc, timeout: 180_000 }, async (t) => {
  const report = await runTester({ ...TESTER_DEFAULTS, step: '06', scenario: 'load', duration: 1, serverArgs: '--workers 3' });
  const series = report.scenarios[0]!.pictures?.processes;
  assert.ok(series && series.times.length > 1, 'no CPU and memory series');
  const roles = series.processes.map((p) => p.role);
  assert.equal(roles.filter((role) => role === 'server').length, 1, roles.join(', '));
  assert.equal(roles.filter((role) => role === 'log worker process').length, 3, `--workers 3: ${roles.join(', ')}`);
  assert.deepEqual(roles.filter((role) => !['server', 'log worker process', 'esbuild (compiling TypeScript)'].includes(role)), [],
    'a process of unknown role');
  const file = reportPagePath(DEFAULT_HTML, 'report-page-test-step-06')!;
  t.diagnostic(`report page: ${writeReportPage(file, [{ heading: 'step 06-worker-pool', report }], 'tester report: step 06', 'report-page.test.ts')}`);
  const dom = chromiumAvailable() ? (await dumpDom(file)).dom : readFileSync(file, 'utf8');
  const chart = /<figcaption>CPU and memory of the server's processes<\/figcaption>([\s\S]*?)<\/figure>/.exec(dom)?.[1] ?? '';
  // Two charts (CPU, memory), each with a line and a key entry per process.
  for (const p of series.processes) {
    const name = `${p.role} (pid ${p.pid})`;
    assert.equal(chart.split(`<title>${name}</title>`).length - 1, 2, `${name}: a line in each chart`);
    assert.equal(chart.split(`> ${name}</span>`).length - 1, 2, `${name}: in each chart's key`);
  }
});

test('processRole names a process by its command line', () => {
  assert.equal(processRole(['/usr/bin/node', 'steps/06-worker-pool/server.ts'], true), 'server');
  assert.equal(processRole(['/usr/bin/node', '--max-semi-space-size=1', '/r/node_modules/.cache/kv-course/log-worker-10be82aaa049c8f4.mjs',
    '/tmp/log-0-of-2.aof', '0', '12', '{}'], false), 'log worker process');
  assert.equal(processRole(['/usr/bin/node', '--import', 'file:///r/node_modules/tsx/dist/loader.mjs', '/r/shared/persistence/log-worker.ts',
    '/tmp/log-0-of-1.aof'], false), 'log worker process');
  assert.equal(processRole(['/r/node_modules/@esbuild/linux-x64/bin/esbuild', '--service=0.28.2', '--ping'], false), 'esbuild (compiling TypeScript)');
  assert.equal(processRole(['/usr/bin/node', '/r/tools/helper.mjs'], false), 'child process (helper.mjs)');
  assert.equal(processRole(null, false), 'child process');
});
