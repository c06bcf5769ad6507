// `npm run screenshots`: the pictures of the report page that the docs show,
// taken from real runs, in headless Chromium (see html/chromium.ts):
//
//   docs/images/step02-double-create.png  step 02, contention: the first double create's timeline
//   docs/images/step02-lost-update.png    step 02, contention: the first lost update's timeline
//   docs/images/compare-02-03.png         npm run compare -- 02 03: the top of the page
//   docs/images/replication-lost-write.png   step 06, replication: the failover without WAIT, its faults as bands
//   docs/images/replication-split-brain.png  step 06, replication: the split brain (both 1400 px wide: each timeline whole)
//
// Each run is a new interleaving, so the pictures differ from run to run in
// their details (which client wins, how many were lost), never in what they
// show: step 02 is run again (up to 5 times) until its first anomaly is a
// double create, its lost updates have a timeline too and no reply was an
// error, the pictures the docs describe. (Round 1 has no double create now
// and then; and step 02's race can corrupt its shared table, after which
// every command of the run answers CORRUPTED: a lesson of its own, not the
// one these pictures show.) The pages themselves are left in a tmp folder
// (printed).

import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../shared/cli/steps.ts';
import { liveLine } from './progress.ts';
import { runTester } from './run.ts';
import { TESTER_DEFAULTS } from './options.ts';
import { writeReportPage } from './html/write.ts';
import { chromiumAvailable, CHROMIUM, screenshot } from './html/chromium.ts';
import type { TesterReport } from './report.ts';

if (!chromiumAvailable()) {
  console.error(`${CHROMIUM} is not installed: no screenshots`);
  process.exit(2);
}
const images = path.join(ROOT, 'docs', 'images');
const folder = mkdtempSync(path.join(tmpdir(), 'kv-screenshots-'));
const progress = liveLine(process.stderr);
const contention = { ...TESTER_DEFAULTS, scenario: 'contention', randomSeed: 1 };

async function run(step: string): Promise<TesterReport> {
  console.error(`running contention against step ${step}...`);
  return runTester({ ...contention, step }, { progress });
}

/** The id of the first timeline of an anomaly of this kind on the page. */
function firstTimeline(html: string, kind: string): string {
  const at = html.indexOf(`data-kind="${kind}"`);
  const match = at < 0 ? null : /<figure id="(timeline-\d+)">/.exec(html.slice(at));
  if (!match) throw new Error(`no ${kind} with a timeline on the page: run again (the race did not show this time)`);
  return match[1]!;
}

async function shoot(page: string, name: string, width: number, fragment = '', height?: number): Promise<void> {
  const png = path.join(images, name);
  await screenshot(page, png, width, fragment, height);
  console.log(`${path.relative(ROOT, png)}  ${(statSync(png).size / 1024).toFixed(0)} KB`);
}

/** Step 02's contention, run until it shows what the docs say their pictures show. */
async function step02Showing(): Promise<TesterReport> {
  const drawn = (report: TesterReport, kind: string) =>
    (report.scenarios[0]?.anomalies.find((a) => a.kind === kind)?.timelines?.length ?? 0) > 0;
  for (let attempt = 1; ; attempt++) {
    const report = await run('02');
    const anomalies = report.scenarios[0]?.anomalies ?? [];
    const first = anomalies[0]?.kind ?? 'none';
    const errors = anomalies.find((a) => a.kind === 'error reply')?.count ?? 0;
    if (first === 'double create' && drawn(report, 'double create') && drawn(report, 'lost update') && errors === 0) return report;
    const why = `first anomaly ${first}, lost update ${drawn(report, 'lost update') ? '' : 'not '}drawn, ${errors} error replies`;
    if (attempt === 5) throw new Error(`step 02 did not show a drawn double create first, a drawn lost update and no error reply in 5 runs (last: ${why})`);
    console.error(`step 02: ${why}; again`);
  }
}

const began = performance.now();
const step02 = await step02Showing();
const single = path.join(folder, 'step-02.html');
writeReportPage(single, [{ heading: 'step 02-threads', report: step02 }], 'tester report: step 02-threads',
  'npm run tester -- --step 02 --scenario contention --random-seed 1');
const html = readFileSync(single, 'utf8');
await shoot(single, 'step02-double-create.png', 1000, `#only=${firstTimeline(html, 'double create')}`);
await shoot(single, 'step02-lost-update.png', 1000, `#only=${firstTimeline(html, 'lost update')}`);

const step03 = await run('03');
if (step03.verdict !== 'SUCCESS') throw new Error(`step 03 did not succeed (${step03.verdict}): its picture would say otherwise`);
const compared = path.join(folder, 'compare-02-03.html');
writeReportPage(compared, [{ heading: 'step 02-threads', report: step02 }, { heading: 'step 03-lock', report: step03 }],
  'compare: contention on steps 02, 03', 'npm run compare -- 02 03 --random-seed 1 --html');
await shoot(compared, 'compare-02-03.png', 1200, '', 900);
console.error('running replication against step 06...');
const replication = await runTester({ ...TESTER_DEFAULTS, scenario: 'replication', step: '06', randomSeed: 1 }, { progress });
const replicated = path.join(folder, 'replication-06.html');
writeReportPage(replicated, [{ heading: 'step 06-worker-pool', report: replication }], 'tester report: replication, step 06',
  'npm run tester -- --step 06 --scenario replication --random-seed 1');
const replicatedHtml = readFileSync(replicated, 'utf8');
await shoot(replicated, 'replication-lost-write.png', 1400, `#only=${firstTimeline(replicatedHtml, 'lost write')}`);
await shoot(replicated, 'replication-split-brain.png', 1400, `#only=${firstTimeline(replicatedHtml, 'split brain')}`);
console.log(`pages in ${folder}`);
console.log(`${Math.round((performance.now() - began) / 1000)} s`);
