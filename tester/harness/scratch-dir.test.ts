import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../shared/cli/steps.ts';
import { TEST_TIMEOUT_MS } from './test-runner.ts';

// tempDataDir() folders go away with the process that made them, also when it
// fails. The fixture runs with TMPDIR set to a folder of this test's own, so
// that other runs' folders do not count.

const FIXTURE = path.join(ROOT, 'tester', 'harness', 'scratch-dir.fixture.ts');

async function run(mode: string, signal?: NodeJS.Signals) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'scratch-dir-test-'));
  try {
    const count = () => readdirSync(tmp).filter((name) => name.startsWith('kv-data-')).length;
    assert.equal(count(), 0);
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode], {
      cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (...end) => resolve(end)));
    let during = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      if (!line.startsWith('made ')) continue;
      during = count();
      if (signal) child.kill(signal);
      else child.stdin.write('go\n');
    }
    const [code, killedBy] = await exited;
    return { during, after: count(), code, killedBy, stderr };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

test('scratch dirs: removed after an uncaught error', { timeout: TEST_TIMEOUT_MS }, async () => {
  const result = await run('throw');
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /a failure, on purpose/);
  assert.deepEqual([result.during, result.after], [2, 0]);
});

test('scratch dirs: removed when the process is stopped by SIGTERM or SIGINT', { timeout: TEST_TIMEOUT_MS }, async () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const result = await run('wait', signal);
    assert.deepEqual([result.during, result.after], [2, 0], `${signal}: ${result.stderr}`);
  }
});

test('scratch dirs: removed after a failure while a step 04 server writes into one', { timeout: TEST_TIMEOUT_MS }, async () => {
  const result = await run('server');
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual([result.during, result.after], [2, 0], result.stderr);
});

// `npm run test:step -- 05` left two dispatch-* folders (the dispatch tests made theirs with mkdtemp).
test("scratch dirs: step 05's dispatch tests leave nothing in TMPDIR", { timeout: TEST_TIMEOUT_MS }, async () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'scratch-dir-test-'));
  try {
    const file = path.join(ROOT, 'steps', '05-workers', 'dispatch.test.ts');
    // A run of its own: without NODE_TEST_CONTEXT, the child would report to this runner (and take its filters).
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', file], {
      cwd: ROOT, env: { ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /pass 2/, output);
    // tsx keeps its compile cache in TMPDIR (tsx-0): not a data folder.
    assert.deepEqual(readdirSync(tmp).filter((name) => !name.startsWith('tsx-')), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
