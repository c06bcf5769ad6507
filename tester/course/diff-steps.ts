// `npm run diff -- 02 03`: what changed between two steps, readable.
//
// Prints a short header (which files were added, removed, changed, and by how
// many lines), then a unified diff of each changed file: server.ts first, since
// that is where each step's lesson lives, then the other files. `--stat` prints
// the header alone; `--code` keeps only the code, .ts files but not tests,
// checks or fixtures (each step README quotes
// `npm run diff -- N-1 N --stat --code`, and docs/lesson-pointers.test.ts
// checks that the quote is still what this prints). Colour when the
// output is a terminal, plain text otherwise (or choose with --color).
//
// The diffing itself is `git diff --no-index`, which works on any two folders,
// inside a clone or not.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseOptions, type OptionSpec } from '../../shared/cli/options.ts';
import { ROOT, findStep, listSteps } from '../../shared/cli/steps.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';

export const DIFF_OPTIONS = {
  color: {
    type: 'string', default: 'auto', choices: ['auto', 'always', 'never'],
    help: 'colour the diff (auto: only when the output is a terminal)',
  },
  stat: { type: 'boolean', default: false, help: 'print only the header: which files changed, by how many lines' },
  code: {
    type: 'boolean', default: false,
    help: 'only the server\'s code: .ts files, not tests, checks, fixtures or benchmarks (each step README quotes npm run diff -- 02 03 --stat --code)',
  },
  context: { type: 'number', default: 3, min: 0, max: 1000, help: 'lines of context around each change' },
} as const satisfies Record<string, OptionSpec>;

const USAGE = 'npm run diff -- STEP STEP [options]   (for example: npm run diff -- 02 03)';

// Files a step folder may hold that are not part of the lesson.
const IGNORED = new Set(['node_modules', 'data', '.DS_Store']);

export interface FileChange {
  /** Path inside the step folder, with '/' separators. */
  file: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  added: number;
  removed: number;
}

export interface StepDiff {
  changes: FileChange[];
  /** The header and the diffs, ready to print. */
  text: string;
}

/** Every file under `dir`, relative to it, '/'-separated (ignored names skipped). */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      if (IGNORED.has(entry.name) || entry.name.endsWith('.log')) continue;
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  walk('');
  return files;
}

/** server.ts first, then the other TypeScript files, then other files, README.md last; by name within each group. */
export function orderFiles(files: Iterable<string>): string[] {
  const rank = (file: string) =>
    file === 'server.ts' ? 0 : file.endsWith('.ts') ? 1 : file === 'README.md' ? 3 : 2;
  return [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * Compares two folders. `cwd` is the folder the paths in the diff are shown
 * relative to (the repository root for steps).
 */
export function diffFolders(
  dirA: string,
  dirB: string,
  options: { color: boolean; stat: boolean; context: number; cwd: string; code?: boolean },
): StepDiff {
  // --code: the .ts files the server runs, so that a README quoting the
  // stat counts neither its own lines nor the tests', the fixtures' (a
  // `fixtures.ts` of test helpers too) or the benchmarks' (a `bench/` folder).
  const isServerCode = (file: string) =>
    file.endsWith('.ts') && !/(\.(test|check|fixture)|(^|\/)fixtures)\.ts$/.test(file) && !/(^|\/)bench\//.test(file);
  const keep = (file: string) => !options.code || isServerCode(file);
  const filesA = new Set(listFiles(dirA).filter(keep));
  const filesB = new Set(listFiles(dirB).filter(keep));
  const relA = path.relative(options.cwd, dirA) || '.';
  const relB = path.relative(options.cwd, dirB) || '.';
  const changes: FileChange[] = [];
  const diffs: string[] = [];

  for (const file of orderFiles(new Set([...filesA, ...filesB]))) {
    const a = filesA.has(file) ? `${relA}/${file}` : null;
    const b = filesB.has(file) ? `${relB}/${file}` : null;
    const counts = gitDiff(['--numstat'], a, b, options.cwd);
    // numstat prints "added<TAB>removed<TAB>name", or "-<TAB>-" for binary files.
    const match = /^(\d+|-)\t(\d+|-)\t/.exec(counts);
    const added = match && match[1] !== '-' ? Number(match[1]) : 0;
    const removed = match && match[2] !== '-' ? Number(match[2]) : 0;
    const status = a === null ? 'added' : b === null ? 'removed' : match === null ? 'unchanged' : 'changed';
    changes.push({ file, status, added, removed });
    if (status !== 'unchanged' && !options.stat) {
      diffs.push(gitDiff([`--color=${options.color ? 'always' : 'never'}`, `-U${options.context}`], a, b, options.cwd));
    }
  }

  const header = describeChanges(relA, relB, changes);
  const text = options.stat ? header : [header, ...diffs].join('\n');
  return { changes, text };
}

function describeChanges(relA: string, relB: string, changes: FileChange[]): string {
  const lines = [`${relA} -> ${relB}`];
  const group = (status: FileChange['status'], label: string, withCounts: boolean) => {
    const files = changes.filter((c) => c.status === status);
    if (files.length === 0) return;
    const names = files.map((c) => (withCounts ? `${c.file} (+${c.added} -${c.removed})` : c.file));
    lines.push(`  ${label.padEnd(10)} ${names.join(', ')}`);
  };
  group('changed', 'changed:', true);
  group('added', 'added:', true);
  group('removed', 'removed:', true);
  group('unchanged', 'unchanged:', false);
  if (!changes.some((c) => c.status !== 'unchanged')) lines.push('  no differences');
  return lines.join('\n') + '\n';
}

/** `git diff --no-index` of two files (null: the file does not exist on that side). */
function gitDiff(flags: string[], a: string | null, b: string | null, cwd: string): string {
  const result = spawnSync(
    'git',
    ['-c', 'core.quotepath=off', 'diff', '--no-index', '--no-ext-diff', '--no-renames', '--no-prefix', ...flags,
      '--', a ?? '/dev/null', b ?? '/dev/null'],
    { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  // Exit status 1 means "they differ"; anything else is a real failure.
  if (result.error || (result.status !== 0 && result.status !== 1)) {
    throw new Error(`git diff failed: ${result.error?.message ?? result.stderr.trim()}`);
  }
  // The `index 1a2b3c..4d5e6f` lines name git objects: noise for a reader.
  return result.stdout.replace(/^(?:\x1b\[[0-9;]*m)*index [0-9a-f]+\.\.[0-9a-f]+.*\n/gm, '');
}

function main(): void {
  exitWhenOutputCloses(); // `| head` ends the command quietly
  const { values, positionals } = parseOptions(DIFF_OPTIONS, USAGE);
  if (positionals.length !== 2) {
    console.error(`usage: ${USAGE}\nsteps: ${listSteps().map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  let dirs: [string, string];
  try {
    dirs = [findStep(positionals[0]!).dir, findStep(positionals[1]!).dir];
  } catch (caught) {
    console.error(`error: ${(caught as Error).message}`);
    process.exit(2);
  }
  const mode: string = values.color; // (its type is the default's literal type)
  const color = mode === 'always' || (mode === 'auto' && process.stdout.isTTY === true);
  const { text } = diffFolders(dirs[0], dirs[1], {
    color, stat: values.stat, context: values.context, cwd: ROOT, code: values.code,
  });
  process.stdout.write(text);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
