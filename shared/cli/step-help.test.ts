import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TEST_TIMEOUT_MS } from '../testing/test-runner.ts';
import { ROOT, listSteps } from './steps.ts';

// What a student sees first: a step's --help. Its usage line shows the npm way
// to start it.

for (const step of listSteps()) {
  test(`step ${step.number}: --help shows 'npm run step -- ${step.number}' first`, { timeout: TEST_TIMEOUT_MS }, () => {
    const help = spawnSync(process.execPath, ['--import', 'tsx', step.server, '--help'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.ok(help.stdout.startsWith(`usage: npm run step -- ${step.number} [options]`), help.stdout.split('\n')[0]);
  });
}
