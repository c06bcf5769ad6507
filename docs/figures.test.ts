// The figures check in `npm test` (docs/tools/figures/page.ts; it measures
// nothing): docs/figures.md is what `npm run figures` wrote from
// docs/figures.json, and every figure the prose quotes as a link to that page
// is the page's figure. A figure re-measured and changed fails this test at
// each sentence that still quotes the old one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFigureQuotes } from './tools/figures/page.ts';

test('docs: every figure quoted from docs/figures.md matches the page, and the page is what npm run figures wrote',
  { timeout: 30_000 }, () => {
    const { problems, quotes } = checkFigureQuotes();
    assert.ok(quotes > 0, 'no prose quotes a figure of docs/figures.md');
    assert.equal(problems.length, 0,
      `figures quoted in the prose that differ from docs/figures.md:\n${problems.map((p) => `${p.file}:${p.line}: ${p.message}`).join('\n')}`);
  });
