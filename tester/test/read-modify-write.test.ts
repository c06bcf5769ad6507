import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS } from '../options.ts';

// The read-modify-write scenarios (tester/scenarios/read-modify-write.ts):
// done by the clients with GET then SET, increments are lost even on step 06,
// whose every command is atomic; with WATCH/MULTI/EXEC, or a lock the clients
// hold, none is. On step 02, with no lock, EXEC's check of the watched key is
// a check-then-act like any other, and the race window breaks it.

const LOST = 'increments lost (acknowledged, not counted)';

describe('tester: read-modify-write by the clients (step 06, step 02)', { timeout: 120_000 }, () => {
  it('step 06: GET-then-SET FAILS with lost increments; WATCH and a client lock SUCCEED', async () => {
    const report = await runTester({
      ...TESTER_DEFAULTS, step: '06', serverArgs: '--quiet', scenario: 'get-then-set,watch,client-lock', rounds: 3,
    });
    assert.deepEqual(report.scenarios.map((s) => [s.name, s.verdict]),
      [['get-then-set', 'FAIL'], ['watch', 'SUCCESS'], ['client-lock', 'SUCCESS']], JSON.stringify(report, null, 1));
    const [getSet, watch] = report.scenarios;
    assert.ok(Number(getSet!.figures[LOST]) > 0);
    assert.match(getSet!.anomalies[0]!.meaning, /GET-then-SET was not/);
    assert.equal(watch!.figures[LOST], 0);
    assert.ok(Number(watch!.figures['attempts per increment']) > 1, 'under contention, some EXECs were refused and retried');
  });

  it('step 02 (no lock): WATCH FAILS too, and the explanation says why', async () => {
    const report = await runTester({ ...TESTER_DEFAULTS, step: '02', serverArgs: '--quiet', scenario: 'watch', rounds: 3 });
    assert.equal(report.verdict, 'FAIL', JSON.stringify(report, null, 1));
    assert.match(report.scenarios[0]!.anomalies[0]!.meaning, /not atomic - a server without a lock/);
  });
});
