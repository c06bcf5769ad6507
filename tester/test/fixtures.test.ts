import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { launchServer, type RunningServer } from '../harness/launch.ts';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS, type TesterOptions } from '../options.ts';
import type { TesterReport } from '../report.ts';

// The tester against small servers that are broken on purpose (and one that
// is not): each must get the right verdict, with the right anomaly named.
// Small counts keep this fast; the fixtures' faults happen every time (a
// 1 ms window with a barrier, every 4th write dropped, a 20 ms lag).

const SMALL: Partial<TesterOptions> = {
  seedClients: 5, seedOps: 20, thinkMs: '0', rounds: 4, incrs: 3, linClients: 5, linOps: 30, linKeys: 3,
  loadClients: 2, count: 300, randomSeed: 42,
};

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}.ts`, import.meta.url));

function withFixture(name: string, scenario: string, check: (report: TesterReport) => void,
  options: Partial<TesterOptions> = {}): void {
  const dialect = options.dialect ?? 'native';
  describe(`tester fixture ${name}${dialect === 'native' ? '' : `, ${dialect} dialect`}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await launchServer(fixture(name));
    });
    after(() => server.stop());
    test(`the tester's verdict on ${name} (${scenario})`, async () => {
      const report = await runTester({ ...TESTER_DEFAULTS, ...SMALL, ...options, port: server.port, host: server.host, scenario });
      check(report);
    });
  });
}

const kinds = (report: TesterReport, scenario: string) =>
  report.scenarios.find((s) => s.name === scenario)!.anomalies.map((a) => a.kind);

withFixture('correct', 'all', (report) => {
  assert.equal(report.verdict, 'SUCCESS', JSON.stringify(report.scenarios.map((s) => s.anomalies)));
  assert.equal(report.exitCode, 0);
  assert.deepEqual(report.scenarios.map((s) => s.verdict), ['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
});

withFixture('double-create', 'contention,linearizability', (report) => {
  assert.equal(report.verdict, 'FAIL');
  assert.equal(report.exitCode, 1);
  const contention = report.scenarios[0]!;
  assert.ok(kinds(report, 'contention').includes('double create'));
  const anomaly = contention.anomalies.find((a) => a.kind === 'double create')!;
  assert.match(anomaly.samples[0]!, /round \d+, key \S+: \d+ of 8 clients got OK for POST \(client \d+ wrote "client\d+"/);
  assert.match(anomaly.meaning, /more than one got OK/);
  assert.equal(report.scenarios[1]!.verdict, 'FAIL');
});

withFixture('lost-writes', 'contention', (report) => {
  assert.equal(report.verdict, 'FAIL');
  assert.deepEqual(kinds(report, 'contention').sort(), ['final state differs', 'lost update']);
  const contention = report.scenarios[0]!;
  assert.ok(Number(contention.figures['INCRs lost (acknowledged, not counted)']) > 0);
  const final = contention.anomalies.find((a) => a.kind === 'final state differs')!;
  assert.match(final.samples[0]!, /counter: DUMP shows "\d+", expected "24" because 24 INCRs were acknowledged/);
});

withFixture('stale-reads', 'contention,linearizability', (report) => {
  // The final state is right (contention passes); only the linearizability check sees stale reads.
  assert.deepEqual(report.scenarios.map((s) => s.verdict), ['SUCCESS', 'FAIL']);
  assert.ok(kinds(report, 'linearizability').includes('stale read'), kinds(report, 'linearizability').join());
  const sample = report.scenarios[1]!.anomalies.find((a) => a.kind === 'stale read')!.samples[0]!;
  assert.match(sample, /cannot be placed: it read .* had changed the key before this read was sent.*\(a stale read\)/);
  assert.match(sample, /\n +\^+ cannot be placed/); // the timeline
});

// In the redis dialect, every sentence and timeline names the commands sent:
// SET ... NX and SET ... XX, DEL, never POST, PUT or DELETE.
const NATIVE_NAMES = /\b(POST|PUT|DELETE)\b/;

/** Every text of a report that names operations: meanings, samples (sentences and text timelines), the page's boxes. */
function spokenTexts(report: TesterReport): string[] {
  return report.scenarios.flatMap((s) => s.anomalies.flatMap((a) => [a.meaning, ...a.samples,
    ...(a.timelines ?? []).flatMap((t) => [t.sentence, ...t.operations.map((o) => o.command)])]));
}

withFixture('double-create', 'contention', (report) => {
  assert.equal(report.verdict, 'FAIL');
  const anomaly = report.scenarios[0]!.anomalies.find((a) => a.kind === 'double create')!;
  assert.match(anomaly.meaning, /several clients sent SET NX for the same new key at the same moment and more than one got OK/);
  assert.match(anomaly.samples[0]!, /round \d+, key \S+: \d+ of 8 clients got OK for SET NX \(client \d+ wrote "client\d+"/);
  const timeline = anomaly.timelines?.[0];
  assert.ok(timeline, 'the double create has a timeline');
  assert.match(timeline.sentence, /client \d+'s SET \S+ "client\d+" NX -> OK .* cannot be placed: it created the key/);
  assert.ok(timeline.operations.every((o) => /^SET \S+ "client\d+" NX$/.test(o.command)), timeline.operations.map((o) => o.command).join());
  for (const text of spokenTexts(report)) assert.doesNotMatch(text, NATIVE_NAMES);
}, { dialect: 'redis' });

withFixture('stale-reads', 'linearizability', (report) => {
  assert.equal(report.verdict, 'FAIL');
  const anomaly = report.scenarios[0]!.anomalies.find((a) => a.kind === 'stale read')!;
  const sample = anomaly.samples[0]!;
  assert.match(sample, /cannot be placed: it read .* had changed the key before this read was sent.*\(a stale read\)/);
  assert.match(sample, /\|  (SET \S+ "\d+" (NX|XX)|DEL \S+|GET \S+|INCR \S+) -> /, 'the text timeline names the commands sent');
  const texts = spokenTexts(report);
  assert.ok(texts.some((text) => /SET \S+ "\d+" (NX|XX)/.test(text)), texts.join('\n'));
  for (const text of texts) assert.doesNotMatch(text, NATIVE_NAMES);
}, { dialect: 'redis', linKeys: 1 });
