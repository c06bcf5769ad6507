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
// show. The pages themselves are left in a tmp folder (printed).

import { mkdtempSync, readFileSync, statSync } from 'node:fs';
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

const step02 = await run('02');
const single = path.join(folder, 'step-02.html');
writeReportPage(single, [{ heading: 'step 02-threads', report: step02 }], 'tester report: step 02-threads',
  'npm run tester -- --step 02 --scenario contention --random-seed 1');
const html = readFileSync(single, 'utf8');
await shoot(single, 'step02-double-create.png', 1000, `#only=${firstTimeline(html, 'double create')}`);
await shoot(single, 'step02-lost-update.png', 1000, `#only=${firstTimeline(html, 'lost update')}`);

const step03 = await run('03');
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
