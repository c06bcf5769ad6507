// The figures page's quote check (page.ts), on made-up pages and prose: a
// quote that matches passes, a drifted one fails, and so does anything that
// is not exactly one of the page's quotes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  checkFigureQuotes, checkQuotesIn, range, renderPage, serializeFigures, twoDigits, updateQuotesIn, type FiguresData,
} from './page.ts';

const data: FiguresData = {
  figures: [{
    name: 'thread-cost',
    title: 'What a connection thread costs',
    about: 'Made up for this test.',
    repeats: 3,
    commands: [{ label: 'step 02', command: 'npx tsx tester/bench/connection-threads.ts --step 02' }],
    values: [
      { id: 'memory', label: 'memory per connection', quote: '14 MB', measured: 'median 13.9 of 3 runs' },
      { id: 'start', label: 'connect to first reply', quote: '100 ms', measured: 'median 101 of 3 runs' },
      { id: 'double', label: 'double creates', quote: '8-10', measured: 'runs: 8, 9, 10' },
    ],
    sample: ['step 02: 50 connections opened one after another'],
    date: '2026-12-01T21:00:00.000Z',
    seconds: 20,
    machine: { cores: 2, cpu: 'test CPU', node: 'v20.0.0', loadBefore: 1, loadAfter: 1 },
  }],
};

const problems = (text: string) => checkQuotesIn('doc.md', text, data).map((p) => `${p.line}: ${p.message}`);

test('figures: a link that quotes its value exactly passes, in Markdown and in a code comment', () => {
  assert.deepEqual(problems('Each costs [about 14 MB](../docs/figures.md#thread-cost-memory) and ' +
    '[100 ms](figures.md#thread-cost-start).'), []);
  assert.deepEqual(problems('// each thread costs [about 14 MB](docs/figures.md#thread-cost-memory) of memory'), []);
  assert.deepEqual(problems('rounds with a double create: [8-10](figures.md#thread-cost-double) of 50'), []);
});

test('figures: a link text wrapped over two lines is read as one', () => {
  assert.deepEqual(problems('costs [about\n14 MB per\nthread](figures.md#thread-cost-memory)'), []);
  assert.deepEqual(problems('// costs [about\n// 14 MB](docs/figures.md#thread-cost-memory)'), []);
});

test('figures: a drifted figure fails, with the line and the quote the page gives', () => {
  const found = problems('line one\nEach costs [about 10 MB](../docs/figures.md#thread-cost-memory).');
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^2: "about 10 MB": docs\/figures.md#thread-cost-memory is "14 MB" \(memory per connection\)/);
  assert.equal(problems('[1-4](figures.md#thread-cost-double) rounds').length, 1, 'an old range');
  assert.equal(problems('[100 ms](figures.md#thread-cost-memory)').length, 1, "another value's quote");
});

test('figures: a quote inside a longer number, a second number in the link, or an unknown anchor fails', () => {
  assert.equal(problems('[114 MB](figures.md#thread-cost-memory)').length, 1);
  assert.equal(problems('[14 MB.5](figures.md#thread-cost-memory)').length, 1);
  assert.equal(problems('[18-10](figures.md#thread-cost-double)').length, 1);
  assert.equal(problems('[14 MB and 100 ms](figures.md#thread-cost-memory)').length, 1, 'one quote per link');
  assert.equal(problems('[8-10 of 50 rounds](figures.md#thread-cost-double)').length, 1, 'no other number in the link');
  assert.match(problems('[14 MB](figures.md#thread-cost-memroy)')[0]!, /docs\/figures.md has no figure or value #thread-cost-memroy/);
  assert.match(problems('[14 MB](figures.md#thread-cost)')[0]!,
    /a number links to the whole figure #thread-cost: link it to the value it quotes, one of #thread-cost-memory \("14 MB"\)/);
});

test('figures: links elsewhere, and links to a figure with no number, are not quotes', () => {
  assert.deepEqual(problems('see [step 02](../steps/02-threads/README.md#what-to-observe), 14 MB'), []);
  assert.deepEqual(problems('from the [figures page](figures.md#thread-cost)'), []);
});

test('figures: after a new measurement, each quote of a changed value is rewritten, wrapped ones too', () => {
  const after: FiguresData = structuredClone(data);
  after.figures[0]!.values[0]!.quote = '12 MB';
  after.figures[0]!.values[2]!.quote = '2-6';
  const text = [
    'A thread costs [about 14 MB](figures.md#thread-cost-memory), and [100 ms](figures.md#thread-cost-start)',
    '// to start ([about',
    '// 14 MB](docs/figures.md#thread-cost-memory)); [8-10](figures.md#thread-cost-double) double creates;',
    'one written by hand: [about 13 MB](figures.md#thread-cost-memory).',
  ].join('\n');
  const { text: updated, changes } = updateQuotesIn('doc.md', text, data, after);
  assert.equal(updated, [
    'A thread costs [about 12 MB](figures.md#thread-cost-memory), and [100 ms](figures.md#thread-cost-start)',
    '// to start ([about',
    '// 12 MB](docs/figures.md#thread-cost-memory)); [2-6](figures.md#thread-cost-double) double creates;',
    'one written by hand: [about 13 MB](figures.md#thread-cost-memory).',
  ].join('\n'));
  assert.deepEqual(changes.map((c) => `${c.line}: ${c.from} -> ${c.to}`), ['1: 14 MB -> 12 MB', '2: 14 MB -> 12 MB', '3: 8-10 -> 2-6']);
  assert.equal(checkQuotesIn('doc.md', updated, after).length, 1, 'the hand-written one is left for the check');
});

test('figures: two significant digits, and ranges', () => {
  assert.equal(twoDigits(127_885), '130,000');
  assert.equal(twoDigits(13.94), '14');
  assert.equal(twoDigits(156.8), '160');
  assert.equal(twoDigits(0.934), '0.93');
  assert.equal(range([9, 8, 10]), '8-10');
  assert.equal(range([20, 20]), '20');
});

test('figures: the whole check fails on a hand-edited page and on a drifted quote in any file', (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'figures-check-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'docs'));
  mkdirSync(path.join(root, 'steps'));
  writeFileSync(path.join(root, 'docs/figures.json'), serializeFigures(data));
  writeFileSync(path.join(root, 'docs/figures.md'), renderPage(data));
  writeFileSync(path.join(root, 'steps/server.ts'), '// a thread: [about 14 MB](../docs/figures.md#thread-cost-memory)\n');
  writeFileSync(path.join(root, 'docs/a.md'), 'A thread costs [about 14 MB](figures.md#thread-cost-memory).\n');
  assert.deepEqual(checkFigureQuotes(root), { problems: [], quotes: 2 });

  writeFileSync(path.join(root, 'steps/server.ts'), '// a thread: [about 10 MB](../docs/figures.md#thread-cost-memory)\n');
  assert.deepEqual(checkFigureQuotes(root).problems.map((p) => `${p.file}:${p.line}`), ['steps/server.ts:1']);

  writeFileSync(path.join(root, 'steps/server.ts'), '// no figure here\n');
  writeFileSync(path.join(root, 'docs/figures.md'), renderPage(data).replace('| 14 MB |', '| 12 MB |'));
  assert.match(checkFigureQuotes(root).problems[0]!.message, /not what `npm run figures` writes/);
});
