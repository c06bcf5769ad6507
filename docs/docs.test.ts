// The docs check in `npm test` (the convention is in docs/README.md, the code
// in docs/tools/docs-check.ts): links lead somewhere, commands work as written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCommands, checkLinks, formatProblem, loadDocs } from './tools/docs-check.ts';

const docs = loadDocs();

test('docs: every relative link points to an existing file, and every #anchor to a heading there', () => {
  const problems = checkLinks(docs);
  assert.equal(problems.length, 0, `broken links:\n${problems.map(formatProblem).join('\n')}`);
});

test('docs: every command shown works as written (scripts, steps, files, options; quick ones run for real)', async () => {
  const report = await checkCommands(docs, { run: true });
  assert.ok(report.checked > 0 || docs.every((doc) => doc.blocks.length === 0), 'no command was found in the docs');
  assert.equal(report.problems.length, 0,
    `commands in the docs that do not work as written:\n${report.problems.map(formatProblem).join('\n')}`);
});
