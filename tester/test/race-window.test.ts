import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../shared/client/connection.ts';
import { launchStep } from '../harness/launch.ts';
import { TEST_TIMEOUT_MS } from '../harness/test-runner.ts';
import { raceWindow } from '../scenarios/load.ts';
import { comparisonTable } from '../table.ts';
import type { TesterReport } from '../report.ts';

// Step 03's load figure (about a fifth of step 02's and 04's) comes from its
// 1 ms race window held inside the lock: the tester and bench must say so
// where they print the figure.

test('tester: the load scenario reads the race window from INFO, and where it sits', { timeout: TEST_TIMEOUT_MS }, async () => {
  for (const [step, args, expected] of [
    ['02', [], '1 ms'], ['03', [], '1 ms in lock'], ['03', ['--race-window-ms', '0'], 'none'], ['04', [], 'none'],
  ] as const) {
    const server = await launchStep(step, { args: ['--quiet', ...args] });
    try {
      const connection = await Connection.open(server.host, server.port);
      assert.equal(await raceWindow(connection), expected, `step ${step} ${args.join(' ')}`);
      await connection.close();
    } finally {
      await server.stop();
    }
  }
});

test('tester: compare and bench print a note under a throughput capped by a race window in a lock', () => {
  const report = (window: string): TesterReport => ({
    target: 't', dialect: 'native', randomSeed: 1, verdict: 'SUCCESS', exitCode: 0,
    scenarios: [{ name: 'load', verdict: 'SUCCESS', description: '', figures: { 'ops/s': 1, 'server race window': window }, details: [], anomalies: [] }],
  });
  const table = comparisonTable(['step 02', 'step 03'], [report('1 ms'), report('1 ms in lock')]);
  assert.match(table, /^server race window +1 ms +1 ms in lock$/m);
  // One note, wrapped to 100 columns (its lines after the first indented under its text).
  const notes = table.split('\n').filter((line) => line.startsWith('note: '));
  assert.equal(notes.length, 1, table);
  const note = table.slice(table.indexOf('note: ')).split('\n');
  for (const line of note) assert.ok(line.length <= 100, line);
  assert.ok(note.slice(1).every((line) => line.startsWith('      ')), table);
  assert.match(note.map((line) => line.trim()).join(' '), /^note: step 03 holds its 1 ms race window inside its lock: .*--race-window-ms 0/);
});
