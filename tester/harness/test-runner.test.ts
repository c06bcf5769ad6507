import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../shared/cli/steps.ts';
import { TEST_TIMEOUT_MS, testRunnerArgs } from './test-runner.ts';

test('test runner: npm test runs the test files with the same bounding flags as test:step and exercise', () => {
  const scripts = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  assert.ok(scripts['test:unit']!.startsWith(`node ${testRunnerArgs().join(' ')} `), `test:unit is: ${scripts['test:unit']}`);
});

test('test runner: a test file that hangs, and leaves a server open, ends with a failure', { timeout: TEST_TIMEOUT_MS }, async () => {
  // Without NODE_TEST_CONTEXT, which would make the child a part of this run.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const fixture = path.join(ROOT, 'tester', 'harness', 'hang.fixture.ts');
  const child = spawn(process.execPath, [...testRunnerArgs(1500), fixture], { cwd: ROOT, env });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = await new Promise<[number | null]>((resolve) => child.once('exit', (status) => resolve([status])));
  assert.equal(code, 1, output);
  assert.match(output, /timed out after 1500ms/);
  assert.match(output, /✔ passes, and leaves a listening server behind/);
});
