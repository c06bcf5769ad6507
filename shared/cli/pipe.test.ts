import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './steps.ts';
import { TEST_TIMEOUT_MS } from '../../tester/harness/test-runner.ts';

// `npm run diff -- 05 06 | head`: the reader of a command's output may go
// away before the command has written anything. The command must end quietly
// (a tool) or go on serving (a server), not crash with EPIPE.

/** Runs `node --import tsx FILE ARGS` with the reading end of its stdout (and stderr) closed at once. */
async function withClosedStdout(file: string, args: string[], alsoStderr = false): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, file), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  if (alsoStderr) child.stderr.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (status) => resolve(status)));
  return { code, stderr };
}

for (const [file, args] of [
  ['tester/course/diff-steps.ts', ['05', '06']],
  ['tester/cli.ts', ['--step', '01', '--scenario', 'seed']],
] as const) {
  test(`pipe: ${file} ${args.join(' ')} into a closed pipe ends quietly`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const { code, stderr } = await withClosedStdout(file, [...args]);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/, stderr);
    assert.equal(code, 0, stderr);
  });
}

test('pipe: a server whose stdout reader is gone goes on serving', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { code, stderr } = await withClosedStdout('shared/cli/pipe.fixture.ts', []);
  assert.doesNotMatch(stderr, /EPIPE/, stderr);
  assert.match(stderr, /still serving/);
  assert.equal(code, 0);
});

test('pipe: a server whose log reader is gone before its first line goes on serving', { timeout: TEST_TIMEOUT_MS }, async () => {
  const { code } = await withClosedStdout('shared/cli/pipe.fixture.ts', [], true);
  assert.equal(code, 0);
});
