import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS } from '../options.ts';
import { formatReport } from '../report.ts';
import { freePort } from '../harness/free-port.ts';
import { assertWithinColumns, runCli } from './run-cli.ts';
import { scratchDir } from '../harness/scratch-dir.ts';

// The tester checked against a reference: a real Redis, spoken to in the
// redis dialect (SET NX, SET XX, DEL, SCAN + GET), must get SUCCESS - and
// FAIL on the read-modify-write done with GET then SET, as every server does.

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

test('tester against redis-server, redis dialect: SUCCESS', { skip: haveRedis ? false : 'redis-server is not installed (apt-get install redis-server)' }, async () => {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => redis.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready`)));
      createInterface({ input: redis.stdout! }).on('line', (line) => {
        if (line.includes('Ready to accept connections')) resolve();
      });
    });
    const report = await runTester({
      ...TESTER_DEFAULTS, port, dialect: 'redis', scenario: 'seed,contention,linearizability',
      seedClients: 5, seedOps: 20, thinkMs: '0', rounds: 4, linClients: 5, linOps: 40,
    });
    assert.equal(report.verdict, 'SUCCESS', JSON.stringify(report, null, 1));
    assert.deepEqual(report.scenarios.map((s) => s.verdict), ['SUCCESS', 'SUCCESS', 'SUCCESS']);

    // A read-modify-write by the clients: GET then SET loses increments even
    // on Redis; WATCH/MULTI/EXEC with retries does not.
    const rmw = await runTester({ ...TESTER_DEFAULTS, port, dialect: 'redis', scenario: 'get-then-set,watch', rounds: 3 });
    assert.deepEqual(rmw.scenarios.map((s) => s.verdict), ['FAIL', 'SUCCESS'], JSON.stringify(rmw, null, 1));
    assert.ok(Number(rmw.scenarios[0]!.figures['increments lost (acknowledged, not counted)']) > 0);
    // What npm run tester -- --dialect redis prints of both runs fits in 100 columns.
    assertWithinColumns(formatReport(report), 'seed, contention, linearizability on redis-server');
    assertWithinColumns(formatReport(rmw), 'get-then-set, watch on redis-server');
  } finally {
    redis.kill('SIGTERM');
    await exited;
  }
});

// What the tester prints of a run in the redis dialect names the commands it
// sent: the checker's sentences and the text timelines say SET ... NX and
// SET ... XX, never POST or PUT, in the text report, in --json and on the
// report page. The replication scenario is where a real redis-server gives
// anomalies to explain (it starts two of its own).

const NATIVE_NAMES = /\b(POST|PUT|DELETE)\b/;

test('npm run tester -- --dialect redis: its sentences and timelines say SET ... NX, never POST (text, --json, the page)',
  { skip: haveRedis ? false : 'redis-server is not installed (apt-get install redis-server)', timeout: 120_000 }, async () => {
    const page = path.join(scratchDir('kv-redis-dialect-'), 'report.html');
    const text = await runCli(['--dialect', 'redis', '--scenario', 'replication', '--html', page]);
    assert.equal(text.code, 1, text.stdout + text.stderr);
    // The checker's sentence (its wrapped lines joined again), and a line of the text timeline.
    assert.match(text.stdout.replace(/\n +/g, ' '), /it read "v1", written by client 1's SET \S+ "v1" NX, but client 1's SET \S+ "v2" XX -> OK had changed the key/);
    assert.match(text.stdout, /\|  SET \S+ "v1" NX -> OK\n/);
    assert.doesNotMatch(text.stdout, NATIVE_NAMES);
    assertWithinColumns(text.stdout, 'npm run tester -- --dialect redis --scenario replication');

    const json = await runCli(['--dialect', 'redis', '--scenario', 'replication', '--json']);
    assert.equal(json.code, 1, json.stderr);
    const anomalies: Array<{ samples: string[]; timelines?: Array<{ sentence: string; operations: Array<{ command: string }> }> }> =
      JSON.parse(json.stdout).scenarios[0].anomalies;
    const sentences = anomalies.flatMap((a) => [...a.samples, ...(a.timelines ?? []).map((t) => t.sentence)]);
    assert.ok(sentences.some((s) => /client 1's SET \S+ "v1" NX/.test(s)), sentences.join('\n'));
    const commands = anomalies.flatMap((a) => (a.timelines ?? []).flatMap((t) => t.operations.map((o) => o.command)));
    assert.ok(commands.some((c) => /^SET \S+ "v1" NX$/.test(c)), commands.join('\n'));
    for (const said of [...sentences, ...commands]) assert.doesNotMatch(said, NATIVE_NAMES);

    // The page: each timeline's sentence and each box's command.
    const html = readFileSync(page, 'utf8');
    const figures = [...html.matchAll(/<figure id="timeline-\d+">([\s\S]*?)<\/figure>/g)].map((m) => m[1]!);
    assert.equal(figures.length, 3, 'a timeline for the stale read, the lost write and the split brain');
    for (const figure of figures) assert.doesNotMatch(figure, NATIVE_NAMES);
    assert.ok(figures.some((figure) => /SET \S+ &quot;v1&quot; NX|SET \S+ "v1" NX/.test(figure)), figures[0]);
  });
