// The catalog of figures against the page it wrote (measuring nothing): every
// figure of the catalog is on the page, measured with the commands the
// catalog gives now, and each figure's reader still understands the output
// those commands printed (the sample kept on the page).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from '../../../shared/cli/steps.ts';
import { CATALOG } from './catalog.ts';
import { loadFigures } from './page.ts';

const data = loadFigures();

test('figures: every figure of the catalog is on the page, measured with the catalog\'s commands', () => {
  for (const definition of CATALOG) {
    const record = data.figures.find((f) => f.name === definition.name);
    assert.ok(record, `${definition.name} is not on docs/figures.md: run \`npm run figures -- --only ${definition.name}\``);
    assert.deepEqual(record.commands, definition.variants.map((v) => ({ label: v.label, command: v.command })),
      `${definition.name}: its commands changed since it was measured: run \`npm run figures -- --only ${definition.name}\``);
  }
});

test('figures: each figure\'s reader reads the output its commands printed, into the values on the page', () => {
  for (const definition of CATALOG) {
    const record = data.figures.find((f) => f.name === definition.name);
    if (!record) continue; // the test above says so
    const chunks = record.sample.join('\n').split(/^\$ /m).filter(Boolean);
    assert.equal(chunks.length, definition.variants.length, `${definition.name}: one sample per command`);
    const runs: Record<string, Array<Record<string, number>>> = {};
    for (const chunk of chunks) {
      const [command, ...lines] = chunk.split('\n');
      const variant = definition.variants.find((v) => v.command === command);
      assert.ok(variant, `${definition.name}: no command "${command}" in the catalog`);
      const { figures } = variant.read(lines.join('\n'));
      for (const [name, value] of Object.entries(figures)) {
        assert.ok(Number.isFinite(value), `${definition.name}, ${variant.label}: ${name} read as ${value}`);
      }
      runs[variant.label] = [figures];
    }
    // The same values (not the same numbers: one run here) as the catalog makes now.
    assert.deepEqual(definition.summarize(runs).map((v) => `${v.id}: ${v.label}`), record.values.map((v) => `${v.id}: ${v.label}`),
      `${definition.name}: its values changed since it was measured: run \`npm run figures -- --only ${definition.name}\``);
  }
});

test('figures: npm run figures names its figures, and refuses an unknown one before measuring anything',
  { timeout: 60_000 }, async () => {
    const run = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'docs/tools/figures/figures.ts', ...args],
      { cwd: ROOT, timeout: 30_000 });
    const { stdout } = await run(['--list']);
    for (const definition of CATALOG) assert.match(stdout, new RegExp(`^${definition.name} `, 'm'));
    await assert.rejects(run(['--only', 'no-such-figure']), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? '', /unknown figure no-such-figure; the figures are: persister-path/);
      return true;
    });
  });
