import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkCommands, checkLinks, extractCommands, normalizeOutput, parseMarkdown, parseShellLine, slug,
} from './docs-check.ts';

// The checker itself, on small hand-made docs: each kind of problem must be
// caught, and good docs must pass. (docs/docs.test.ts runs it on the real docs.)

const FENCE = '```';

test('docs check: headings become GitHub anchors', () => {
  assert.equal(slug('Run it'), 'run-it');
  assert.equal(slug('What changed since the previous step?'), 'what-changed-since-the-previous-step');
  assert.equal(slug('`npm run diff`: two steps'), 'npm-run-diff-two-steps');
  assert.equal(slug('RESP2 & the `redis-cli`'), 'resp2--the-redis-cli');
  assert.equal(slug('[Links](x.md) and *emphasis* in snake_case'), 'links-and-emphasis-in-snake_case');
  const doc = parseMarkdown('docs/x.md', '# Title\n\n## Same\n\n## Same\n\nSetext\n------\n\n```sh\n# not a heading\n```\n');
  assert.deepEqual([...doc.anchors].sort(), ['same', 'same-1', 'setext', 'title']);
});

test('docs check: broken links and anchors are reported with file and line; good ones pass', () => {
  const doc = parseMarkdown('docs/fixture.md', [
    '# Fixture', '', '## A section', '',
    'Good: [options](../shared/cli/options.ts), [self](#a-section), [pkg](../package.json),',
    '[folder](../shared/cli/), [line](../shared/cli/steps.ts#L3), [web](https://example.com).',
    'Bad: [missing](nothing-here.md)', 'and [anchor](#no-such-heading)',
    'and [outside](../../elsewhere.md) and [absolute](/docs/x.md).',
    '`[in code](not-checked.md)` is code.',
    '', '[ref]: ../missing-too.ts',
  ].join('\n'));
  const problems = checkLinks([doc]);
  assert.deepEqual(problems.map((p) => [p.line, p.message.split(':')[0]]), [
    [7, "link 'nothing-here.md'"],
    [8, "link '#no-such-heading'"],
    [9, "link '../../elsewhere.md'"],
    [9, "link '/docs/x.md'"],
    [12, "link '../missing-too.ts'"],
  ]);
  assert.match(problems[0]!.message, /docs\/nothing-here\.md does not exist/);
  assert.match(problems[1]!.message, /no heading with anchor #no-such-heading/);
});

test('docs check: commands come out of console and sh blocks, with their output and marker', () => {
  const doc = parseMarkdown('docs/fixture.md', [
    `${FENCE}console`, '$ npm run step -- 01 \\', '    --port 0', 'listening on 127.0.0.1:4242', '', `${FENCE}`, '',
    '<!-- docs-check: skip -->', '', `${FENCE}sh`, '# a comment', 'npm run bench', `${FENCE}`,
    `${FENCE}text`, '$ not a command', `${FENCE}`,
  ].join('\n'));
  const { commands } = extractCommands(doc);
  assert.deepEqual(commands.map((c) => [c.line, c.text, c.output, c.marker]), [
    [2, 'npm run step -- 01 --port 0', ['listening on 127.0.0.1:4242'], null],
    [12, 'npm run bench', null, 'skip'],
  ]);
});

test('docs check: shell lines split into words as sh does', () => {
  assert.deepEqual(parseShellLine(`redis-cli -p 1 SET k "hello world" 'a b'`),
    { commands: [{ env: {}, words: ['redis-cli', '-p', '1', 'SET', 'k', 'hello world', 'a b'] }], simple: true });
  const compound = parseShellLine('KV_PORT=0 npm start & redis-cli -p 1 PING | cat > out.txt');
  assert.equal(compound.simple, false);
  assert.deepEqual(compound.commands.map((c) => c.words[0]), ['npm', 'redis-cli', 'cat']);
  assert.deepEqual(compound.commands[0]!.env, { KV_PORT: '0' });
});

test('docs check: npm banner and ports do not count as differences in output', () => {
  assert.equal(normalizeOutput('\n> pkg@1.0.0 step\n> tsx x.ts 01\n\nlistening on 127.0.0.1:39999\n'),
    normalizeOutput(['listening on 127.0.0.1:41234', '']));
});

test('docs check: wrong scripts, steps, files and options are caught; real runs are compared', async () => {
  const doc = parseMarkdown('docs/fixture.md', [
    '# Fixture', '',
    `${FENCE}console`,
    '$ npm run no-such-script',
    '$ npm run step -- 42',
    '$ npx tsx steps/01-tcp/nope.ts',
    '$ npm run step -- 01 --no-such-flag 3',
    '$ npm run step --port 0',
    '$ npm run diff -- 01 77',
    `$ npm run step -- 01 --work-ms 0 --port 0`,
    'listening on 127.0.0.1:12345',
    '$ redis-cli -p 12345 PING',
    'PONG',
    '$ redis-cli -p 12345 POST k "hello world"',
    'OK',
    '$ redis-cli -p 12345 GET k',
    '"hello world, as nobody saw it"',
    '$ redis-cli -p 12345 PUT missing v',
    '(error) NOT_FOUND key \'missing\' does not exist',
    `${FENCE}`,
  ].join('\n'));
  const report = await checkCommands([doc], { run: true });
  const lines = report.problems.map((p) => `${p.line} ${p.message}`);
  const expectProblem = (line: number, pattern: RegExp) =>
    assert.ok(lines.some((l) => l.startsWith(`${line} `) && pattern.test(l)), `no problem matching ${pattern} on line ${line}:\n${lines.join('\n')}`);
  expectProblem(4, /npm script 'no-such-script' does not exist/);
  expectProblem(5, /step '42' does not exist/);
  expectProblem(6, /steps\/01-tcp\/nope\.ts does not exist/);
  expectProblem(7, /has no option --no-such-flag/);
  expectProblem(8, /'--port' before '--' goes to npm/);
  expectProblem(9, /step '77' does not exist/);
  expectProblem(16, /output shown differs[\s\S]*nobody saw it[\s\S]*real run: +"\\"hello world\\""/);
  // Lines 10, 12, 14 and 18 are right: PING, POST, and PUT's error ran and matched.
  assert.equal(lines.length, 7, lines.join('\n'));
  assert.deepEqual(report.ran.map((r) => r.line), [12, 14, 16, 18]);
});

test('docs check: a needs-step block waits for its step, and strict mode reports it', async () => {
  const doc = parseMarkdown('docs/fixture.md', [
    '<!-- docs-check: needs-step 99 -->', '', `${FENCE}sh`, 'npm run tester -- --step 99 --no-such-flag', `${FENCE}`,
    '<!-- docs-check: sometimes -->', `${FENCE}sh`, 'npm run diff -- 01 01', `${FENCE}`,
  ].join('\n'));
  const relaxed = await checkCommands([doc], { run: false });
  assert.deepEqual(relaxed.pending.map((p) => p.line), [4]);
  assert.deepEqual(relaxed.problems.map((p) => [p.line, p.message]),
    [[7, "unknown marker 'docs-check: sometimes' (known: skip, output-varies, ignore, needs-step NN)"]]);
  const strict = await checkCommands([doc], { run: false, strict: true });
  assert.ok(strict.problems.some((p) => p.line === 4 && /written for step 99, which does not exist yet/.test(p.message)));
});
