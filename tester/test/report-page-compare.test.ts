import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProgram } from './run-cli.ts';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../shared/cli/steps.ts';
import { renderPage } from '../html/page.ts';
import { DEFAULT_HTML, htmlFlagDefault, reportPagePath } from '../html/write.ts';
import { chromiumAvailable, dumpDom } from '../html/chromium.ts';
import type { Pictures } from '../pictures.ts';
import type { TesterReport } from '../report.ts';
import { scratchDir } from '../harness/scratch-dir.ts';

// Where the report page goes (--html, and by default reports/), and the page
// of `npm run compare -- 02 03 --html`: both steps side by side, a column
// each, their charts on the same scales.

test('--html: no value means reports/, a new page per run there; a file name is that file; off is none', () => {
  assert.deepEqual(htmlFlagDefault(['02', '03', '--html']), ['02', '03', '--html', DEFAULT_HTML]);
  assert.deepEqual(htmlFlagDefault(['--html', '--rounds', '5']), ['--html', DEFAULT_HTML, '--rounds', '5']);
  assert.deepEqual(htmlFlagDefault(['--html', 'cmp.html']), ['--html', 'cmp.html']);
  const now = new Date('2026-12-02T15:10:00.123Z');
  assert.equal(reportPagePath(DEFAULT_HTML, 'step-02', now),
    path.join(ROOT, 'reports', `2026-12-02T15-10-00-123Z-step-02-${process.pid}.html`), 'in the repository\'s reports/, wherever npm ran');
  const base = process.env.INIT_CWD ?? process.cwd();
  assert.equal(reportPagePath('report.html', 'step-02', now), path.resolve(base, 'report.html'));
  assert.equal(reportPagePath('pages/', 'compare-02-03', now), path.resolve(base, 'pages', `2026-12-02T15-10-00-123Z-compare-02-03-${process.pid}.html`));
  assert.equal(reportPagePath('off', 'step-02', now), null);
});

/** A load scenario's result with these pictures. */
function loadReport(target: string, pictures: Pictures): TesterReport {
  return {
    target, dialect: 'native', randomSeed: 1, verdict: 'SUCCESS', exitCode: 0,
    scenarios: [{ name: 'load', verdict: 'SUCCESS', description: 'load', figures: {}, details: [], anomalies: [], pictures }],
  };
}

const LIMITS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, Infinity];

test('side by side, a scenario\'s charts share their scales: the same buckets, seconds and heights', () => {
  // Step A: fast, 2 s, up to 4,000 ops/s; step B: slow, 3 s, up to 1,000 ops/s, more CPU and memory.
  const fast = loadReport('A', {
    latency: { limitsMs: LIMITS, counts: [0, 0, 5, 90, 5, 0, 0, 0, 0, 0, 0] },
    throughput: { intervalMs: 100, counts: Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 400 : 200)) },
    processes: { times: [0, 1000, 2000], processes: [{ pid: 1, role: 'server', cpuPercent: [null, 40, 50], rssMb: [100, 110, 120] }] },
  });
  const slow = loadReport('B', {
    latency: { limitsMs: LIMITS, counts: [0, 0, 0, 0, 0, 10, 40, 30, 15, 5, 0] },
    throughput: { intervalMs: 100, counts: Array.from({ length: 30 }, () => 100) },
    processes: {
      times: [0, 1500, 3000],
      processes: [
        { pid: 2, role: 'server', cpuPercent: [null, 90, 95], rssMb: [200, 250, 300] },
        { pid: 3, role: 'log worker process', cpuPercent: [null, 10, 20], rssMb: [40, 41, 42] },
      ],
    },
  });
  const html = renderPage([{ heading: 'step A', report: fast }, { heading: 'step B', report: slow }], { title: 't', command: 'c', generatedAt: 'now' });
  const columns = html.split('<section class="column">').slice(1);
  assert.equal(columns.length, 2);
  const ticks = (chart: string) => [...chart.matchAll(/<text class="tick[^"]*"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&lt;/g, '<'));
  const charts = (column: string, kind: string) => [...column.matchAll(new RegExp(`<svg class="chart ${kind}"[\\s\\S]*?</svg>`, 'g'))].map((m) => m[0]);
  const [histogramA, histogramB] = columns.map((column) => charts(column, 'histogram')[0]!);
  // Buckets from A's first (< 0.5 ms) to B's last (< 100 ms), the share axis up to A's 90%, in both.
  assert.deepEqual(ticks(histogramA!), ticks(histogramB!));
  assert.ok(ticks(histogramA!).includes('< 0.5 ms') && ticks(histogramA!).includes('< 100 ms'), ticks(histogramA!).join(' '));
  assert.ok(ticks(histogramB!).includes('100%') || ticks(histogramB!).includes('90%'), ticks(histogramB!).join(' '));
  // Throughput, CPU, memory: the same ticks on both axes in both columns (3 s, 4,000 ops/s; 95%; 300 MB).
  const [linesA, linesB] = columns.map((column) => charts(column, 'line-chart'));
  assert.equal(linesA!.length, 3);
  assert.equal(linesB!.length, 3);
  linesA!.forEach((chart, i) => assert.deepEqual(ticks(chart), ticks(linesB![i]!), `chart ${i + 1}: ${ticks(chart)} / ${ticks(linesB![i]!)}`));
  assert.ok(ticks(linesA![0]!).includes('4000') && ticks(linesA![0]!).includes('3'), `throughput: ${ticks(linesA![0]!).join(' ')}`);
  assert.ok(ticks(linesA![2]!).includes('300'), `memory: ${ticks(linesA![2]!).join(' ')}`);
  // Alone, a report keeps its own scales.
  const alone = renderPage([{ heading: 'step A', report: fast }], { title: 't', command: 'c', generatedAt: 'now' });
  assert.ok(!ticks(charts(alone, 'line-chart')[0]!).includes('3'), 'step A alone: its throughput axis ends at its own 2 s');
});

/** Runs `tester/compare.ts ARGS` from the repository's root, writing report pages as asked. */
function compare(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProgram('tester/compare.ts', args, { INIT_CWD: ROOT });
}

test('npm run compare -- 02 03 --html FILE: one page, a column per step; --html alone: a new page in reports/', { timeout: 300_000 }, async (t) => {
  const file = path.join(scratchDir('kv-compare-page-'), 'cmp.html');
  const run = await compare(['02', '03', '--rounds', '5', '--html', file]);
  assert.equal(run.code, 1, `step 02 fails contention: ${run.stderr}`);
  assert.match(run.stderr, new RegExp(`report page: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  const html = readFileSync(file, 'utf8');
  const headings = [...html.matchAll(/<section class="column">\n<h2>([^<]*) <span class="verdict verdict-(\w+)">/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(headings, ['step 02-threads fail', 'step 03-lock success']);
  assert.match(html, /grid-template-columns: repeat\(2, minmax\(0, 1fr\)\)/, 'side by side');
  if (chromiumAvailable()) {
    const page = await dumpDom(file);
    assert.deepEqual(page.consoleLines, [], 'the page logged to the console');
    assert.equal(page.errors, '');
  }

  // `--html` with no value, last: the default folder, printed.
  const byDefault = await compare(['02', '03', '--rounds', '2', '--html']);
  const printed = /report page: (\S+)\n/.exec(byDefault.stderr)?.[1];
  assert.ok(printed, byDefault.stderr);
  const written = path.resolve(ROOT, printed);
  t.diagnostic(`report page: ${printed}`);
  assert.equal(path.dirname(written), path.join(ROOT, 'reports'));
  assert.match(path.basename(written), /^\d{4}-\d\d-\d\dT[\d-]+Z-compare-02-03-\d+\.html$/);
  assert.ok(existsSync(written), `${written} was not written`);
  rmSync(written);
});
