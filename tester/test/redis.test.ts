import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runTester } from '../run.ts';
import { TESTER_DEFAULTS } from '../options.ts';
import { freePort } from '../harness/free-port.ts';

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
  } finally {
    redis.kill('SIGTERM');
    await exited;
  }
});
