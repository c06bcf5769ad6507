import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS } from '../options.ts';
import { assertWithinColumns, runCli, runProgram } from './run-cli.ts';
import { scratchDir } from '../harness/scratch-dir.ts';

// The tester as a program: exit status, output, and no server left running.


function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (caught: NodeJS.ErrnoException) => resolve(caught.code === 'ECONNREFUSED'));
  });
}

test('tester cli: a racy server gets exit 1, the race named, its report page written, and its server stopped', async () => {
  const page = path.join(scratchDir('kv-cli-test-'), 'report.html');
  const { code, stdout, stderr } = await runCli([
    '--server', 'tester/fixtures/double-create.ts', '--scenario', 'contention', '--rounds', '2', '--contention-clients', '4',
    '--html', page,
  ]);
  assert.equal(code, 1, stdout);
  assert.match(stderr, /report page: \S*report\.html/);
  assert.match(readFileSync(page, 'utf8'), /double create on key \S+contention:r1:item[\s\S]*data-stuck="true"/);
  assert.match(stdout, /double create \(2x\): several clients POSTed the same new key/);
  assert.match(stdout, /RESULT: FAIL \(contention FAIL\)/);
  const [, host, port] = /at (\S+):(\d+) \(started by the tester\)/.exec(stdout)!;
  assert.ok(await refused(host!, Number(port)), 'the server the tester started is still listening');
});

test('tester cli: --json prints a report a program can read; exit 0 on SUCCESS', async () => {
  const { code, stdout, stderr } = await runCli(['--step', '01', '--scenario', 'contention', '--rounds', '2', '--json']);
  assert.equal(code, 0, stdout);
  assert.doesNotMatch(stderr, /report page/, 'KV_HTML=off writes no page');
  const report = JSON.parse(stdout);
  assert.equal(report.verdict, 'SUCCESS');
  assert.equal(report.scenarios[0].name, 'contention');
  assert.equal(report.scenarios[0].figures.rounds, 2);
});

test('tester cli: a usage error or no server is exit 2 with a readable message', async () => {
  const noStep = await runCli(['--step', '99']);
  assert.equal(noStep.code, 2);
  assert.match(noStep.stdout, /error: no step '99'; the steps are: 01-tcp/);
  const badScenario = await runCli(['--step', '01', '--scenario', 'nonsense']);
  assert.equal(badScenario.code, 2);
  assert.match(badScenario.stdout, /unknown scenario 'nonsense'/);
});

test('tester: nobody listening is an error (exit 2), not a FAIL', async () => {
  // A port that was free a moment ago: listen on 0, note the port, close.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const report = await runTester({ ...TESTER_DEFAULTS, port, scenario: 'contention' });
  assert.equal(report.exitCode, 2);
  assert.match(report.error!, /no server is listening on 127\.0\.0\.1:\d+/);
});

test('tester: step 01 (one thread, a Map) passes every scenario', async () => {
  const report = await runTester({
    ...TESTER_DEFAULTS, step: '01', seedClients: 5, seedOps: 20, thinkMs: '0', rounds: 3,
    linClients: 5, linOps: 30, loadClients: 2, count: 500,
  });
  assert.equal(report.verdict, 'SUCCESS', JSON.stringify(report.scenarios.map((s) => s.anomalies)));
  const load = report.scenarios.find((s) => s.name === 'load')!;
  assert.equal(load.figures.operations, 500);
  // The tester started the server, so it measured it from /proc.
  assert.ok(Number(load.figures['server peak RSS MB']) > 10, String(load.figures['server peak RSS MB']));
  assert.equal(load.figures['server processes'], 1);
  // The text report's histogram and throughput sparkline fit in 100 columns.
  assert.ok(load.details.some((line) => /^ {3}[▁▂▃▄▅▆▇█]+$/.test(line)), load.details.join('\n'));
  assert.ok(load.details.some((line) => /^ +< [\d.]+ ms +[\d.]+% #*$/.test(line)), load.details.join('\n'));
  for (const line of load.details) assert.ok(`   ${line}`.length <= 100, `wider than 100 columns: ${line}`);
});

// Every line the tester prints, in the scenarios a student runs first, fits in
// 100 columns: a real run of step 02 (FAIL: every anomaly's sentences, samples
// and timelines), of step 03 (SUCCESS), the read-modify-write scenarios (step
// 06: get-then-set FAILS, the others SUCCEED), and compare 02 03. The sizes are the defaults where they shape the lines (8
// contention clients, 10 linearizability clients), smaller where they only
// take time. The three runs go at once.
test('tester cli and compare: every line of the text report fits in 100 columns (step 02, step 03, read-modify-write, compare 02 03)', { timeout: 300_000 }, async () => {
  const quick = ['--seed-ops', '10', '--think-ms', '0-5', '--duration', '1'];
  const [step02, step03, rmw, compare] = await Promise.all([
    runCli(['--step', '02', ...quick]),
    runCli(['--step', '03', ...quick]),
    // (On step 06: on step 02 a race may corrupt the table, and a GET of the counter then meets nil: ERROR.)
    runCli(['--step', '06', '--scenario', 'get-then-set,watch,client-lock,server-incr', '--rounds', '3']),
    runProgram('tester/compare.ts', ['02', '03', '--rounds', '5']),
  ]);
  assert.equal(step02.code, 1, step02.stdout + step02.stderr);
  assert.equal(step03.code, 0, step03.stdout + step03.stderr);
  assert.equal(rmw.code, 1, rmw.stdout + rmw.stderr);
  assert.equal(compare.code, 1, compare.stdout + compare.stderr);
  for (const [what, run] of Object.entries({ 'step 02': step02, 'step 03': step03, 'read-modify-write on step 06': rmw, 'compare 02 03': compare })) {
    assertWithinColumns(run.stdout, `${what}, stdout`);
    assertWithinColumns(run.stderr, `${what}, stderr`);
  }
  // What was checked: the anomalies' sentences and samples (contention's, every run), and, when the
  // linearizability scenario found a key it could not order, its text timeline.
  assert.match(step02.stdout, /double create \(\d+x\)[\s\S]*lost update \(\d+x\)/);
  if (/linearizability FAIL/.test(step02.stdout)) assert.match(step02.stdout, /\n +\^+ cannot be placed\n/);
  assert.match(step03.stdout, /RESULT: SUCCESS/);
  assert.match(compare.stdout, /^verdict +FAIL +SUCCESS$/m, compare.stdout + compare.stderr);
});
