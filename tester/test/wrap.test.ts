import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, wrap } from '../wrap.ts';
import { formatTable } from '../report.ts';
import { drawTimeline } from '../text-timeline.ts';

// The text report's 100 columns: prose wrapped at spaces, tables and timelines
// laid out to fit.

test('wrap: breaks at spaces, indents the lines after the first, never cuts a word', () => {
  assert.deepEqual(wrap('   short line', '   ', 20), ['   short line'], 'a line that fits is left alone');
  assert.deepEqual(wrap('   lost update (2x): two INCRs returned the same number', '   ', 24),
    ['   lost update (2x): two', '   INCRs returned the', '   same number']);
  assert.deepEqual(wrap('     - round 1, key k: 3 of 8 clients got OK', '       ', 21),
    ['     - round 1, key', '       k: 3 of 8', '       clients got OK']);
  assert.deepEqual(wrap('a tfbsfya:contention:r1:counter b', '  ', 10), ['a', '  tfbsfya:contention:r1:counter', '  b'], 'a long word stays whole');
  for (const line of wrap(`   ${'word '.repeat(60)}`, '   ', 100)) assert.ok(line.length <= 100, line);
});

test('displayWidth: colour codes take no room, → and ▁ one column each', () => {
  assert.equal(displayWidth('\x1b[31mFAIL\x1b[0m'), 4);
  assert.equal(displayWidth('GET k → OK'), 10);
  assert.equal(displayWidth('▁▂▃█'), 4);
  assert.deepEqual(wrap('▁▁▁▁ ▁▁▁▁', '', 8), ['▁▁▁▁', '▁▁▁▁'], 'wrapped by columns, not bytes');
});

test('formatTable: a table wider than 100 columns wraps its labels, not its values', () => {
  const label = 'replication: split brain: writes of one key acknowledged by both primaries';
  const table = formatTable(['', 'step 04', 'step 05', 'step 06'], [[label, '-', '-', '2'], ['RESULT', 'ERROR', 'ERROR', 'FAIL']]);
  const lines = table.split('\n');
  for (const line of lines) assert.ok(line.length <= 100, line);
  assert.match(lines[2]!, /^replication: split brain: writes .* +- +- +2$/);
  assert.match(lines[3]!, /^ {2}\S/, 'the rest of the label, indented, under its row');
  assert.match(lines.at(-1)!, /^RESULT +ERROR +ERROR +FAIL$/);
  assert.equal(formatTable(['', 'a'], [['x', '1']]), '   a\n-  -\nx  1', 'a narrow table as before');
});

test('drawTimeline: the bars shrink to leave room for the text; a text still too long goes on under itself', () => {
  const row = (from: number, to: number, text: string, stuck = false) => ({ from, to, who: 'client 1', fill: '=', text, stuck });
  const short = drawTimeline([row(0, 1, 'GET k -> "a"'), row(2, 3, 'GET k -> "b"', true)], 93).split('\n');
  assert.deepEqual(short, [
    '   0.000 ms  client 1  |===========                     |  GET k -> "a"',
    '   2.000 ms  client 1  |                     ===========|  GET k -> "b"',
    '                                             ^^^^^^^^^^^ cannot be placed',
  ], 'short texts: 32-column bars; the mark under the stuck bar');
  const long = drawTimeline([row(0, 1, `PUT k "${'v'.repeat(40)}" -> OK`), row(2, 3, `PUT k "${'w'.repeat(45)}" -> OK`)], 93).split('\n');
  assert.deepEqual(long, [
    `   0.000 ms  client 1  |=====       |  PUT k "${'v'.repeat(40)}" -> OK`,
    `   2.000 ms  client 1  |       =====|  PUT k "${'w'.repeat(45)}"`,
    `${' '.repeat(39)}-> OK`,
  ], 'the bars shrink, to 12 columns at least; a text still too long goes on under itself');
  for (const line of long) assert.ok(line.length <= 93, line);
});
