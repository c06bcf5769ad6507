import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS, type TesterOptions } from '../options.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderPage } from '../html/page.ts';
import { writeReportPage } from '../html/write.ts';
import { CHROMIUM, chromiumAvailable, dumpDom } from '../html/chromium.ts';
import { formatReport, type ScenarioResult, type TesterReport } from '../report.ts';
import { HAVE_REDIS_SERVER } from '../replication-nodes.ts';

// The replication scenario against step 06 and against two real
// redis-servers: the same anomalies, every run, because the faults are made
// (a blackholed link, SIGKILL, SIGSTOP), not hoped for. Each run is a few
// seconds: four pairs of servers, started and stopped.

const BOUNDED = { timeout: 180_000 };
const NO_CHROMIUM = chromiumAvailable() ? false : `${CHROMIUM} is not installed (apt-get install chromium): the page is not opened`;

function checkReplicationRun(name: string, options: Partial<TesterOptions>, skip: string | false): void {
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
      assert.match(sample, /primary acknowledged client 1's PUT \S+ "v2" -> OK; then client 2's GET on the replica returned "v1"/);
      assert.match(sample, /it read "v1", written by client 1's POST \S+ "v1", but client 1's PUT \S+ "v2" -> OK had changed the key before this read was sent \(a stale read\)/);
      assert.match(sample, /fault +\|[ #]+\| +link primary -> replica blackholed \(for [\d.]+ ms\)/, 'the fault is a line of the text timeline');
      assert.match(sample, /GET \S+ -> "v1" +<- cannot be placed/);
    });

    it('failover without WAIT loses an acknowledged write; with WAIT the write is kept', () => {
      const lost = anomaly('lost write');
      assert.equal(lost?.count, 1, formatReport(report));
      assert.match(lost.samples[0]!, /acknowledged client 1's PUT \S+ "v2" -> OK, WAIT 1 300 replied 0 .* client 2's GET on it returned "v1"/);
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

    it('the report page draws each fault as a band on the anomaly\'s timeline', () => {
      for (const kind of ['stale read', 'lost write', 'split brain']) {
        const faults = anomaly(kind)?.timelines?.[0]?.faults ?? [];
        assert.ok(faults.length > 0, `${kind}: no faults on its timeline`);
      }
      const html = renderPage([{ heading: name, report }], { title: 'replication', command: 'replication.test.ts', generatedAt: 'now' });
      const bands = [...html.matchAll(/<g class="fault( fault-moment)?"><title>([^<]*)<\/title>/g)].map((m) => m[2]!);
      assert.ok(bands.some((title) => /^link primary -&gt; replica blackholed, from [\d.]+ ms to [\d.]+ ms$/.test(title)), bands.join('\n'));
      assert.ok(bands.some((title) => /^primary SIGKILLed \(pid \d+\), from [\d.]+ ms to the end$/.test(title)), bands.join('\n'));
      assert.ok(bands.some((title) => /^replica promoted \(REPLICAOF NO ONE\), from [\d.]+ ms$/.test(title)), bands.join('\n'));
      assert.ok(bands.some((title) => /^primary SIGSTOPped \(pid \d+\), from [\d.]+ ms to [\d.]+ ms$/.test(title)), bands.join('\n'));
    });

    it('the page opens in headless Chromium without an error, the bands drawn', { skip: NO_CHROMIUM, timeout: 60_000 }, async () => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'kv-replication-page-')), 'replication.html');
      writeReportPage(file, [{ heading: name, report }], 'replication', 'replication.test.ts');
      const page = await dumpDom(file);
      assert.deepEqual(page.consoleLines, [], 'the page logged to the console');
      assert.equal(page.errors, '', 'the page met an error');
      assert.ok(page.drawnMs > 0, 'the page script did not run to its end');
      const timelines = [...page.dom.matchAll(/<figure id="timeline-\d+">([\s\S]*?)<\/figure>/g)].map((m) => m[1]!);
      assert.equal(timelines.length, 3, 'a timeline for the stale read, the lost write and the split brain');
      for (const timeline of timelines) assert.match(timeline, /<g class="fault"><title>[^<]+<\/title><rect /);
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
