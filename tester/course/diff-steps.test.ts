import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diffFolders, orderFiles } from './diff-steps.ts';
import { ROOT, listSteps } from '../../shared/cli/steps.ts';

// Two small step-like folders: one file changed in each group, one added, one
// removed, one unchanged.
function fixture(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'diff-steps-'));
  const files: Record<string, Record<string, string>> = {
    '02-a': { 'server.ts': 'one\ntwo\nthree\n', 'README.md': 'old\n', 'gone.ts': 'bye\n', 'same.ts': 'same\n' },
    '03-b': { 'server.ts': 'one\nTWO\nthree\n', 'README.md': 'new\n', 'lock.ts': 'hello\n', 'same.ts': 'same\n' },
  };
  for (const [dir, contents] of Object.entries(files)) {
    mkdirSync(path.join(root, dir));
    for (const [name, text] of Object.entries(contents)) writeFileSync(path.join(root, dir, name), text);
  }
  return root;
}

test('diff: server.ts first, then other TypeScript files, then the rest, README.md last', () => {
  assert.deepEqual(orderFiles(['README.md', 'b.ts', 'server.ts', 'a.ts', 'notes.txt']),
    ['server.ts', 'a.ts', 'b.ts', 'notes.txt', 'README.md']);
});

test('diff: the header names changed, added, removed and unchanged files with line counts', () => {
  const root = fixture();
  try {
    const { changes, text } = diffFolders(path.join(root, '02-a'), path.join(root, '03-b'),
      { color: false, stat: false, context: 3, cwd: root });
    assert.deepEqual(changes.map((c) => [c.file, c.status, c.added, c.removed]), [
      ['server.ts', 'changed', 1, 1],
      ['gone.ts', 'removed', 0, 1],
      ['lock.ts', 'added', 1, 0],
      ['same.ts', 'unchanged', 0, 0],
      ['README.md', 'changed', 1, 1],
    ]);
    const lines = text.split('\n');
    assert.equal(lines[0], '02-a -> 03-b');
    assert.match(text, /changed: +server\.ts \(\+1 -1\), README\.md \(\+1 -1\)/);
    assert.match(text, /added: +lock\.ts \(\+1 -0\)/);
    assert.match(text, /removed: +gone\.ts \(\+0 -1\)/);
    assert.match(text, /unchanged: same\.ts/);
    // The diff of server.ts comes before any other file's, and is plain text.
    assert.ok(text.indexOf('+++ 03-b/server.ts') < text.indexOf('03-b/lock.ts\n'));
    assert.match(text, /^-two$/m);
    assert.match(text, /^\+TWO$/m);
    assert.doesNotMatch(text, /\x1b\[/);
    assert.doesNotMatch(text, /^index /m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('diff: colour on request, header only with stat', () => {
  const root = fixture();
  try {
    const a = path.join(root, '02-a');
    const b = path.join(root, '03-b');
    const coloured = diffFolders(a, b, { color: true, stat: false, context: 3, cwd: root }).text;
    assert.match(coloured, /\x1b\[31m-two/);
    const stat = diffFolders(a, b, { color: false, stat: true, context: 3, cwd: root }).text;
    assert.doesNotMatch(stat, /@@/);
    assert.match(stat, /changed: +server\.ts/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('diff: npm run diff on two real steps runs and prints no colour into a pipe', () => {
  const steps = listSteps();
  const [first, second] = [steps[0]!.number, (steps[1] ?? steps[0]!).number];
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tester/course/diff-steps.ts'), first, second],
    { cwd: ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`^steps/${first}-[^ ]+ -> steps/${second}-`));
  assert.doesNotMatch(result.stdout, /\x1b\[/);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tester/course/diff-steps.ts'), first, '99'],
    { cwd: ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no step '99'/);
});
