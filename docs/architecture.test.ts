import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, listSteps } from '../shared/cli/steps.ts';
import { repositoryFiles } from './tools/docs-check.ts';

// docs/architecture.md draws the repository as folders and arrows; this test
// keeps the drawing true to the code: what it names exists, it names every
// folder, and the import rules it states hold for every file.

const PAGE = 'docs/architecture.md';
const page = readFileSync(path.join(ROOT, PAGE), 'utf8');

/** Tests and what only tests load: they may use the harness. */
const isTestFile = (file: string) => /\.(test|fixture|check)\.ts$|-test-worker\.ts$/.test(file);
const code = repositoryFiles((file) => /\.(ts|mjs)$/.test(file));

/** The repository files `file` imports, or starts as a thread or a process (`new URL('./x.ts', import.meta.url)`). */
function dependencies(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)'(\.\.?\/[^']+\.(?:ts|mjs))'/g)) {
    found.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!)));
  }
  return found;
}

/** Everything a step's server runs: its imports, theirs, and the files its threads and worker processes start from. */
function runBy(server: string): Set<string> {
  const seen = new Set<string>();
  const next = [server];
  while (next.length > 0) {
    const file = next.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    next.push(...dependencies(file).filter((dependency) => existsSync(path.join(ROOT, dependency))));
  }
  return seen;
}

const steps = listSteps();
const serverFiles = new Map(steps.map((step) => [step.name, runBy(`steps/${step.name}/server.ts`)]));

test('architecture page: every path it names exists (steps/NN-name/ for every step)', () => {
  const named = new Set([...page.matchAll(/[`"]((?:steps|shared|tester|docs)\/[\w./-]*)[`"]/g)].map((match) => match[1]!));
  assert.ok(named.size >= 20, `the page names ${named.size} paths`);
  for (const name of named) {
    const paths = name.includes('NN-name') ? steps.map((step) => name.replace('NN-name', step.name)) : [name];
    for (const file of paths) assert.ok(existsSync(path.join(ROOT, file)), `${PAGE} names ${file}, which does not exist`);
  }
});

test('architecture page: it names every folder of shared/ and of tester/', () => {
  const folders = new Set(repositoryFiles((file) => /^(shared|tester)\/[^/]+\//.test(file)).map((file) => file.split('/').slice(0, 2).join('/')));
  assert.ok(folders.size >= 15, `${folders.size} folders`);
  for (const folder of folders) assert.ok(page.includes(`\`${folder}/\``), `${PAGE} does not name ${folder}/`);
});

test('architecture page: each thread and worker process it draws is started from the file it draws it from', () => {
  const starts = [...page.matchAll(/"([\w./-]+\.ts)"\] -\.->\|[^|]*\| \w+\["([\w./-]+\.ts)"\]/g)];
  assert.ok(starts.length >= 3, 'the page draws the threads and worker processes');
  for (const [, from, started] of starts) {
    assert.ok(dependencies(from!).includes(started!), `${from} does not start ${started} (no new URL('./${path.basename(started!)}', ...))`);
  }
});

test('architecture page: each folder imports only what its row in the table says', () => {
  const rows = [...page.matchAll(/^\| `((?:steps|shared|tester|docs)\/[^`]*)` \| [^\n]* \| ([^|\n]+) \|$/gm)];
  assert.ok(rows.length >= 20, `${rows.length} rows`);
  for (const [, folder, imports] of rows) {
    const allowed = [...imports!.matchAll(/`([^`]+\/)`/g)].map((match) => match[1]!);
    const inFolder = folder === 'tester/'
      ? (file: string) => /^tester\/[^/]+$/.test(file) // the tester's own files; its folders have rows of their own
      : folder === 'steps/NN-name/' ? (file: string) => file.startsWith('steps/') : (file: string) => file.startsWith(folder!);
    const own = (file: string) => (folder === 'steps/NN-name/' ? file.split('/').slice(0, 2).join('/') + '/' : folder!);
    for (const file of code.filter(inFolder)) {
      const mayUse = folder === 'steps/NN-name/' || !isTestFile(file) ? allowed : [...allowed, 'shared/', 'tester/harness/'];
      for (const dependency of dependencies(file)) {
        assert.ok(dependency.startsWith(own(file)) || mayUse.some((prefix) => dependency.startsWith(prefix)),
          `${file} imports ${dependency}; the row of ${folder} in ${PAGE} allows ${allowed.join(', ') || 'nothing of the others'}`);
      }
    }
  }
});

/** True when `file` is in the folder of step `step` or of a step before it. */
const inStepOrBefore = (file: string, step: string) => {
  const match = /^steps\/(\d\d)-[^/]+\//.exec(file);
  return match !== null && match[1]! <= step.slice(0, 2);
};

test('a step\'s server runs only files of shared/, of its own folder and of the steps before it', () => {
  for (const [step, files] of serverFiles) {
    const outside = [...files].filter((file) => !file.startsWith('shared/') && !inStepOrBefore(file, step));
    assert.deepEqual(outside, [], `step ${step}'s server runs files outside shared/, its folder and the steps before it`);
  }
});

test('a step\'s code imports no later step', () => {
  for (const file of code.filter((file) => file.startsWith('steps/'))) {
    const step = file.split('/')[1]!;
    const later = dependencies(file).filter((dependency) => dependency.startsWith('steps/') && !inStepOrBefore(dependency, step));
    assert.deepEqual(later, [], `${file} imports a later step`);
  }
});

test('every file of shared/ is run by a step\'s server, but for the client end of the protocol and the tests', () => {
  const run = new Set([...serverFiles.values()].flatMap((files) => [...files]));
  const clientEnd = (file: string) => file.startsWith('shared/client/') || file === 'shared/protocol/reply-parser.ts';
  const unused = code.filter((file) => file.startsWith('shared/') && !isTestFile(file) && !clientEnd(file) && !run.has(file));
  assert.deepEqual(unused, [], 'in shared/ but run by no server: move it to tester/ or docs/tools/, or draw the exception in the page');
});

test('nothing in shared/ imports from steps/, tester/ or docs/ (tests beside the code may use tester/harness/)', () => {
  for (const file of code.filter((file) => file.startsWith('shared/'))) {
    for (const dependency of dependencies(file)) {
      const allowed = dependency.startsWith('shared/') || (isTestFile(file) && dependency.startsWith('tester/harness/'));
      assert.ok(allowed, `${file} imports ${dependency}`);
    }
  }
});

test('nothing in tester/ or docs/ imports a step\'s code: they reach a step by starting its server', () => {
  for (const file of code.filter((file) => file.startsWith('tester/') || file.startsWith('docs/'))) {
    const intoSteps = dependencies(file).filter((dependency) => dependency.startsWith('steps/'));
    assert.deepEqual(intoSteps, [], `${file} imports a step's code`);
  }
});

test('the harness stops a launched server from outside: no server file knows of it', () => {
  assert.match(readFileSync(path.join(ROOT, 'tester/harness/launch.ts'), 'utf8'), /'--import', STOP_WITH_LAUNCHER/);
  const run = new Set([...serverFiles.values()].flatMap((files) => [...files]));
  for (const file of run) {
    assert.doesNotMatch(readFileSync(path.join(ROOT, file), 'utf8'), /KV_STOP_WITH_LAUNCHER|stop-with-launcher/, `${file} knows of the harness`);
  }
});
