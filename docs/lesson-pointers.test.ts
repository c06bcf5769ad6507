import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Each step's README says where its lesson happens, and what `npm run diff`
// shows between it and the step before; this test keeps both true, so that
// they cannot go stale when the code moves.
//
// A lesson pointer is two lines of a step README:
//
//   **Lesson pointer:** [`steps/03-lock/command-lock.ts:39`](command-lock.ts#L39), the mutex:
//   `command: (args, run) => mutex.withLock(() => run(args)),`
//
// The file must exist, the link must lead to that same file and line, and that
// line (without its indentation) must be the quoted code, to the letter.
//
// The diff stat is a `console` block of the README that starts with
// `$ npm run diff -- N-1 N --stat --code`: the rest of the block must be what
// that command prints now.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STEPS = readdirSync(path.join(ROOT, 'steps')).filter((name) => /^\d\d-/.test(name)).sort();
const POINTER = /^\*\*Lesson pointer:\*\* \[`([^`:]+):(\d+)`\]\(([^)#]+)#L(\d+)\)/;

interface Pointer { readme: string; at: number; file: string; line: number; link: string; anchor: number; code: string | null }

function pointersOf(readme: string): Pointer[] {
  const lines = readFileSync(path.join(ROOT, readme), 'utf8').split('\n');
  const found: Pointer[] = [];
  lines.forEach((text, i) => {
    const match = POINTER.exec(text);
    if (match === null) return;
    const code = /^`(.+)`$/.exec(lines[i + 1] ?? '');
    found.push({
      readme, at: i + 1, file: match[1]!, line: Number(match[2]), link: match[3]!, anchor: Number(match[4]), code: code?.[1] ?? null,
    });
  });
  return found;
}

/** The stat the README quotes: the command's arguments and the lines shown under it. */
function quotedStat(readme: string): { args: string[]; shown: string[] } | null {
  const text = readFileSync(path.join(ROOT, readme), 'utf8');
  const block = /```console\n\$ npm run diff -- (\d\d \d\d --stat --code)\n([\s\S]*?)```/.exec(text);
  if (block === null) return null;
  return { args: block[1]!.split(' '), shown: block[2]!.trimEnd().split('\n') };
}

for (const step of STEPS) {
  const readme = `steps/${step}/README.md`;

  test(`${readme}: names the file and line where its lesson happens, and they hold the quoted code`, () => {
    const pointers = pointersOf(readme);
    assert.ok(pointers.length >= 1, `${readme} has no "**Lesson pointer:**" line`);
    for (const pointer of pointers) {
      const where = `${readme}:${pointer.at}`;
      const full = path.join(ROOT, pointer.file);
      assert.ok(existsSync(full), `${where}: ${pointer.file} does not exist`);
      assert.equal(path.relative(ROOT, path.resolve(ROOT, 'steps', step, pointer.link)), pointer.file, `${where}: the link leads elsewhere than ${pointer.file}`);
      assert.equal(pointer.anchor, pointer.line, `${where}: the link's #L${pointer.anchor} is not line ${pointer.line}`);
      assert.notEqual(pointer.code, null, `${where}: the line after the pointer must quote the code, as \`code\``);
      const actual = readFileSync(full, 'utf8').split('\n')[pointer.line - 1];
      assert.equal(actual?.trim(), pointer.code, `${where}: ${pointer.file}:${pointer.line} no longer holds the quoted code (npm run update:lessons finds it again)`);
    }
  });

  if (step.startsWith('01')) continue; // no step before it
  test(`${readme}: quotes the diff stat from the step before, as npm run diff prints it now`, () => {
    const quoted = quotedStat(readme);
    assert.notEqual(quoted, null, `${readme} has no \`console\` block of \`npm run diff -- NN NN --stat --code\``);
    const before = STEPS[STEPS.indexOf(step) - 1]!;
    assert.deepEqual(quoted!.args.slice(0, 2), [before.slice(0, 2), step.slice(0, 2)], `${readme}: the stat should compare ${before} with ${step}`);
    const result = spawnSync('npm', ['run', '-s', 'diff', '--', ...quoted!.args, '--color', 'never'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(quoted!.shown, result.stdout.trimEnd().split('\n'), `${readme}: the quoted diff stat is stale; npm run update:lessons pastes what \`npm run diff -- ${quoted!.args.join(' ')}\` prints`);
  });
}
