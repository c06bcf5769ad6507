import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { launchStep } from '../harness/launch.ts';
import { TEST_TIMEOUT_MS } from '../harness/test-runner.ts';
import { ROOT, listSteps } from '../../shared/cli/steps.ts';

// What a student sees first: a step's --help. Its usage line shows the npm way
// to start it, and INFO reports no setting that --help does not offer.

for (const step of listSteps()) {
  test(`step ${step.number}: --help shows 'npm run step -- ${step.number}' first; INFO has race_window_ms only if --help has --race-window-ms`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const help = spawnSync(process.execPath, ['--import', 'tsx', step.server, '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.ok(help.stdout.startsWith(`usage: npm run step -- ${step.number} [options]`), help.stdout.split('\n')[0]);
    const server = await launchStep(step.number, { args: ['--quiet'] });
    try {
      const connection = await Connection.open(server.host, server.port);
      const info = describeReply(await connection.send('INFO'));
      await connection.close();
      assert.equal(/race_window_ms:/.test(info), help.stdout.includes('--race-window-ms'),
        `INFO ${/race_window_ms:/.test(info) ? 'shows' : 'does not show'} race_window_ms, --help ${help.stdout.includes('--race-window-ms') ? 'offers' : 'does not offer'} --race-window-ms`);
    } finally {
      await server.stop();
    }
  });
}
