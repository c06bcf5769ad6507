import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS, type TesterOptions } from '../options.ts';
import path from 'node:path';
import { renderPage } from '../html/page.ts';
import { writeReportPage } from '../html/write.ts';
import { CHROMIUM, chromiumAvailable, dumpDom, evaluateInPage } from '../html/chromium.ts';
import { formatReport, type ScenarioResult, type TesterReport } from '../report.ts';
import { HAVE_REDIS_SERVER } from '../replication-nodes.ts';
import { assertWithinColumns } from './run-cli.ts';
import { scratchDir } from '../harness/scratch-dir.ts';

// The replication scenario against step 06 and against two real
// redis-servers: the same anomalies, every run, because the faults are made
// (a blackholed link, SIGKILL, SIGSTOP), not hoped for. Each run is a few
// seconds: four pairs of servers, started and stopped.

const BOUNDED = { timeout: 180_000 };
const NO_CHROMIUM = chromiumAvailable() ? false : `${CHROMIUM} is not installed (apt-get install chromium): the page is not opened`;

/** A text or a fault's line of a timeline as Chromium drew it, in the order drawn; a box's label with its box. */
interface Drawn {
  figure: string;
  order: number;
  /** The text, or null for a fault's line. */
  text: string | null;
  rect: Rect;
  box: Rect | null;
}
interface Rect { left: number; top: number; right: number; bottom: number }

/** Run in the page: every <text> and every fault's <line> of every timeline, where it is drawn (getBoundingClientRect). */
const DRAWN = `(function () {
  function rect(element) { var r = element.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom }; }
  var drawn = [];
  document.querySelectorAll('figure').forEach(function (figure) {
    figure.querySelectorAll('svg.timeline text, svg.timeline .fault line').forEach(function (element, order) {
      var op = element.classList.contains('op-label') ? figure.querySelector('g.op[data-op="' + element.dataset.op + '"] rect') : null;
      drawn.push({ figure: figure.id, order: order, text: element.tagName === 'text' ? element.textContent : null,
        rect: rect(element), box: op ? rect(op) : null });
    });
  });
  return drawn;
})()`;

/** Half a pixel of slack: rounding, not overlap. */
const SLACK = 0.5;
const overlap = (a: Rect, b: Rect) =>
  Math.min(a.right, b.right) - Math.max(a.left, b.left) > SLACK && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > SLACK;
const inside = (inner: Rect, outer: Rect) =>
  inner.left >= outer.left - SLACK && inner.right <= outer.right + SLACK && inner.top >= outer.top - SLACK && inner.bottom <= outer.bottom + SLACK;
/** A vertical line (its rect has no width) through a text. */
const crosses = (line: Rect, text: Rect) =>
  line.left > text.left + SLACK && line.left < text.right - SLACK && Math.min(line.bottom, text.bottom) - Math.max(line.top, text.top) > SLACK;

function checkReplicationRun(name: string, options: Partial<TesterOptions>, skip: string | false): void {
  // The commands as the dialect sends them: POST and PUT in ours, SET ... NX and SET ... XX in Redis's.
  const redis = options.dialect === 'redis';
  const create = (value: string) => (redis ? `SET \\S+ "${value}" NX` : `POST \\S+ "${value}"`);
  const update = (value: string) => (redis ? `SET \\S+ "${value}" XX` : `PUT \\S+ "${value}"`);
  describe(`the replication scenario against ${name}`, { skip }, () => {
    let report: TesterReport;
    let scenario: ScenarioResult;
    before(async () => {
      report = await runTester({ ...TESTER_DEFAULTS, ...options, scenario: 'replication', randomSeed: 1 });
      assert.equal(report.error, undefined, report.error);
      scenario = report.scenarios[0]!;
    }, BOUNDED);
    const anomaly = (kind: string) => scenario.anomalies.find((a) => a.kind === kind);

    it('FAILs, by design: a read from the replica is stale, explained by the checker', () => {
      assert.equal(report.verdict, 'FAIL', formatReport(report));
      assert.equal(report.exitCode, 1);
      const stale = anomaly('stale read');
      assert.equal(stale?.count, 1, formatReport(report));
      assert.equal(scenario.figures['stale reads from the replica'], 1);
      const sample = stale.samples[0]!;
      assert.match(sample, new RegExp(`primary acknowledged client 1's ${update('v2')} -> OK; then client 2's GET on the replica returned "v1"`));
      assert.match(sample, new RegExp(`it read "v1", written by client 1's ${create('v1')}, but client 1's ${update('v2')} -> OK had changed ` +
        'the key before this read was sent \\(a stale read\\)'));
      assert.match(sample, new RegExp(`\\|  ${update('v2')} -> OK\n`), 'the text timeline names the command sent');
      assert.match(sample, /fault +\|[ #]+\| +link primary -> replica blackholed \(for [\d.]+ ms\)/, 'the fault is a line of the text timeline');
      assert.match(sample, /GET \S+ -> "v1"\n +\^+ cannot be placed($|\n)/);
      if (redis) {
        const said = [...scenario.anomalies.flatMap((a) => a.samples), ...scenario.details];
        for (const text of said) assert.doesNotMatch(text, /\b(POST|PUT|DELETE)\b/, 'the redis dialect names the commands it sent');
      }
    });

    it('failover without WAIT loses an acknowledged write; with WAIT the write is kept', () => {
      const lost = anomaly('lost write');
      assert.equal(lost?.count, 1, formatReport(report));
      assert.match(lost.samples[0]!, new RegExp(`acknowledged client 1's ${update('v2')} -> OK, WAIT 1 300 replied 0 .* client 2's GET on it returned "v1"`));
      assert.match(lost.samples[0]!, /fault +\|[ #]+\| +primary SIGKILLed \(pid \d+\) \(to the end\)/);
      assert.equal(scenario.figures['acknowledged writes lost in a failover without WAIT'], 1);
      assert.equal(anomaly('lost write despite WAIT'), undefined, formatReport(report));
      assert.equal(scenario.figures['writes WAIT confirmed, kept after the failover'], '1 of 1');
      assert.ok(scenario.details.some((line) => /GET \S+failover-wait -> "v2"$/.test(line)), scenario.details.join('\n'));
    });

    it('split brain: both primaries acknowledge a write; the old primary\'s is lost when it rejoins', () => {
      const split = anomaly('split brain');
      assert.equal(split?.count, 1, formatReport(report));
      assert.match(split.samples[0]!, /GET on the old one returned "from-old-primary", on the new one "from-new-primary"\. .*GET on it returned "from-new-primary": the write the old primary acknowledged \("from-old-primary"\) is lost/);
      assert.match(split.samples[0]!, /primary SIGSTOPped \(pid \d+\) \(for [\d.]+ ms\)/);
      assert.equal(scenario.figures['split brain: writes of one key acknowledged by both primaries'], 2);
      assert.equal(scenario.figures['acknowledged writes lost when the old primary rejoined'], 1);
      assert.ok(!scenario.details.some((line) => line.startsWith('processes left running')), scenario.details.join('\n'));
    });

    it('its text report (what npm run tester prints) fits in 100 columns, the fault timelines too', () => {
      assertWithinColumns(formatReport(report), `the replication scenario against ${name}`);
      assert.match(formatReport(report), /fault +\|[ #]+\|  link primary -> replica blackholed/, 'with its timelines');
    });

    it('the report page draws each fault as a band on the anomaly\'s timeline', () => {
      for (const kind of ['stale read', 'lost write', 'split brain']) {
        const faults = anomaly(kind)?.timelines?.[0]?.faults ?? [];
        assert.ok(faults.length > 0, `${kind}: no faults on its timeline`);
      }
      const html = renderPage([{ heading: name, report }], { title: 'replication', command: 'replication.test.ts', generatedAt: 'now' });
      const bands = [...html.matchAll(/<g class="fault( fault-moment)?"><title>([^<]*)<\/title>/g)].map((m) => m[2]!);
      assert.ok(bands.some((title) => /^link primary -&gt; replica blackholed until the link healed, from [\d.]+ ms to [\d.]+ ms$/.test(title)), bands.join('\n'));
      assert.ok(bands.some((title) => /^link delayed 100 ms each way until the link healed, from [\d.]+ ms to [\d.]+ ms$/.test(title)), bands.join('\n'));
      assert.ok(bands.some((title) => /^primary SIGKILLed \(pid \d+\), from [\d.]+ ms to the end$/.test(title)), bands.join('\n'));
      assert.ok(bands.some((title) => /^replica promoted \(REPLICAOF NO ONE\), from [\d.]+ ms$/.test(title)), bands.join('\n'));
      assert.ok(bands.some((title) => /^primary SIGSTOPped \(pid \d+\) until SIGCONT, from [\d.]+ ms to [\d.]+ ms$/.test(title)), bands.join('\n'));
      // Each band's label is drawn under the lanes, what ended it included.
      const labels = [...html.matchAll(/<g class="fault[^"]*">[\s\S]*?<text [^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1]!);
      for (const label of [/^primary SIGSTOPped \(pid \d+\) until SIGCONT$/, /^primary SIGKILLed \(pid \d+\)$/, /^link primary -&gt; replica cut$/,
        /^link primary -&gt; replica blackholed until the link healed$/, /^link delayed 100 ms each way until the link healed$/]) {
        assert.ok(labels.some((text) => label.test(text)), `no fault labelled ${label} in ${labels.join(' | ')}`);
      }
    });

    it('the page opens in headless Chromium without an error, the bands drawn', { skip: NO_CHROMIUM, timeout: 60_000 }, async () => {
      const file = path.join(scratchDir('kv-replication-page-'), 'replication.html');
      writeReportPage(file, [{ heading: name, report }], 'replication', 'replication.test.ts');
      const page = await dumpDom(file);
      assert.deepEqual(page.consoleLines, [], 'the page logged to the console');
      assert.equal(page.errors, '', 'the page met an error');
      assert.ok(page.drawnMs > 0, 'the page script did not run to its end');
      const timelines = [...page.dom.matchAll(/<figure id="timeline-\d+">([\s\S]*?)<\/figure>/g)].map((m) => m[1]!);
      assert.equal(timelines.length, 3, 'a timeline for the stale read, the lost write and the split brain');
      for (const timeline of timelines) assert.match(timeline, /<g class="fault"><title>[^<]+<\/title><rect /);
      // Each box says the command sent, in the dialect's words.
      const split = timelines.find((timeline) => timeline.includes('split brain on key'))!;
      const words = [...split.matchAll(/<g class="op [^>]*><title>client \d: (\S+)/g)].map((m) => m[1]);
      assert.deepEqual([...new Set(words)].sort(), redis ? ['GET', 'SET'] : ['GET', 'POST', 'PUT']);
      assert.match(split, new RegExp(`<text class="op-label[^>]*>${update('from-old-primary').replace('\\S+ ', '')} → OK</text>`), 'the box of the old primary\'s write, its whole label');
    });

    it('in Chromium, no text or fault line of a timeline covers a text, and no box cuts its label', { skip: NO_CHROMIUM, timeout: 60_000 }, async () => {
      const file = path.join(scratchDir('kv-replication-layout-'), 'replication.html');
      writeReportPage(file, [{ heading: name, report }], 'replication', 'replication.test.ts');
      const drawn = await evaluateInPage(file, DRAWN) as Drawn[];
      const texts = drawn.filter((d) => d.text !== null);
      const lines = drawn.filter((d) => d.text === null);
      assert.equal(new Set(texts.map((t) => t.figure)).size, 3, 'the three timelines are drawn');
      assert.equal(texts.filter((t) => t.text!.startsWith('cannot be placed: ')).length, 3, 'a callout on each timeline');
      assert.ok(lines.length >= 6, 'the faults\' lines are drawn');
      const labels = texts.filter((t) => t.box !== null);
      assert.ok(labels.length >= 15, `the boxes are labelled: ${labels.map((t) => t.text).join(', ')}`);
      for (const label of labels) {
        assert.ok(!label.text!.endsWith('…'), `a label shortened on a short timeline: ${label.text}`);
        assert.ok(inside(label.rect, label.box!), `the label ${JSON.stringify(label.text)} is cut by its box: ${JSON.stringify(label)}`);
      }
      const covered: string[] = [];
      texts.forEach((a, i) => texts.slice(i + 1).forEach((b) => {
        if (a.figure === b.figure && overlap(a.rect, b.rect)) covered.push(`${JSON.stringify(a.text)} and ${JSON.stringify(b.text)} (${a.figure})`);
      }));
      // A fault's line drawn after a text (a text drawn after it, on a box, is over it).
      for (const line of lines) {
        for (const text of texts) {
          if (text.figure === line.figure && text.order < line.order && crosses(line.rect, text.rect)) {
            covered.push(`a fault's line at x ${line.rect.left} over ${JSON.stringify(text.text)} (${line.figure})`);
          }
        }
      }
      assert.deepEqual(covered, [], 'texts covered by texts or lines');
    });
  });
}

checkReplicationRun('step 06', { step: '06' }, false);
checkReplicationRun('redis-server (--dialect redis)', { dialect: 'redis' },
  HAVE_REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server): skipped');

it('without --step, --server or --dialect redis, the scenario says what it needs', async () => {
  const report = await runTester({ ...TESTER_DEFAULTS, scenario: 'replication' });
  assert.equal(report.exitCode, 2);
  assert.match(report.error ?? '', /starts its own primary and replica: give --step 06 \(or --server FILE\), or --dialect redis/);
});
