// `npm run bench:report`: how big the report page of a 10-client,
// 1,000-operation run is, and how long headless Chromium takes to open and
// draw it. A measurement, not a test: the figures are printed, nothing is
// asserted.
//
// The runs are against step 02 (no lock), so that the page has anomalies
// with timelines to draw: the linearizability scenario (10 clients x 100
// operations, on 5 keys, and on 1 key: every operation on one timeline), the
// contention scenario, and 2 s of load from 10 clients.
//
// Two figures per page, 5 times each, interleaved with an empty page:
// - drawn ms: from the start of navigation to the end of the page's last
//   script, which reads the page's height and so forces the layout of
//   everything (data-drawn-ms, read with --dump-dom);
// - screenshot ms: the wall time of `chromium --headless --screenshot` on the
//   page (start-up, load, layout, paint, PNG), against the same on an empty
//   page; the difference is what the report costs.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS } from '../options.ts';
import { writeReportPage } from '../html/write.ts';
import { chromiumAvailable, CHROMIUM, dumpDom, screenshot } from '../html/chromium.ts';
import { liveLine } from '../progress.ts';

if (!chromiumAvailable()) {
  console.error(`${CHROMIUM} is not installed: nothing to measure`);
  process.exit(2);
}
const folder = mkdtempSync(path.join(tmpdir(), 'kv-bench-report-'));
const progress = liveLine(process.stderr);
const empty = path.join(folder, 'empty.html');
writeFileSync(empty, '<!doctype html><html><head><meta charset="utf-8"><title>empty</title></head><body></body></html>\n');

const cases = [
  { name: '5 keys', linKeys: 5 },
  { name: '1 key', linKeys: 1 },
];
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[]) => `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})`;

console.log('report page of a run against step 02: 10 clients x 100 operations (linearizability), contention, 2 s of load from 10 clients');
console.log(`chromium: ${spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim()}; 5 openings each, median (min-max)\n`);
console.log('linearizability on  timelines  boxes  page KB  drawn ms      screenshot ms  empty page ms');
for (const { name, linKeys } of cases) {
  progress(`bench:report: running the tester against step 02 (${name})...`);
  const report = await runTester({
    ...TESTER_DEFAULTS, step: '02', scenario: 'contention,linearizability,load',
    linClients: 10, linOps: 100, linKeys, loadClients: 10, duration: 2,
  }, { progress });
  const file = path.join(folder, `report-${linKeys}.html`);
  writeReportPage(file, [{ heading: 'step 02-threads', report }], `bench:report (${name})`, 'npm run bench:report');
  const timelines = report.scenarios.flatMap((s) => s.anomalies.flatMap((a) => a.timelines ?? []));
  const boxes = timelines.reduce((sum, t) => sum + t.operations.length, 0);
  const drawn: number[] = [];
  const shot: number[] = [];
  const shotEmpty: number[] = [];
  for (let i = 1; i <= 5; i++) {
    progress(`bench:report: ${name}, opening ${i}/5`);
    const page = await dumpDom(file);
    if (page.errors !== '' || page.consoleLines.length > 0) throw new Error(`the page failed: ${page.errors} ${page.consoleLines.join('\n')}`);
    drawn.push(page.drawnMs);
    for (const [target, times] of [[empty, shotEmpty], [file, shot]] as const) {
      const started = performance.now();
      await screenshot(target, path.join(folder, 'shot.png'), 1200, '', 900);
      times.push(performance.now() - started);
    }
  }
  progress('');
  console.log(`${name.padEnd(18)}  ${String(timelines.length).padStart(9)}  ${String(boxes).padStart(5)}  ` +
    `${(statSync(file).size / 1024).toFixed(0).padStart(7)}  ${spread(drawn).padEnd(12)}  ${spread(shot).padEnd(13)}  ${spread(shotEmpty)}`);
}
console.log(`\npages in ${folder}`);
