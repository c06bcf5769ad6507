import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { launchStep, type RunningServer } from './launch.ts';
import { until } from './until.ts';

// Clients nobody here wrote, each with its DEFAULT settings, against steps 01
// (one thread), 03 (a thread per connection, a lock) and 06 (the complete
// server): strings, counters, a pipeline of 1,000 commands, a transaction
// with WATCH that another client breaks and a retry that succeeds.
//
//   node-redis (`redis` 6)  sends HELLO 3 at connect and speaks RESP3 after it
//   ioredis                 RESP2; sends INFO at connect (its ready check)
//   redis-py 4.3            Debian's python3-redis, for /usr/bin/python3;
//                           incr(k, n) is INCRBY, pipeline() is MULTI/EXEC
//
// On steps 01 and 06 (the steps with expiry and lists), each also sets keys
// with a time and waits for one to expire, and blocks in BLPOP on a
// connection of its own until another client pushes.

const PYTHON = '/usr/bin/python3';
const havePyRedis = spawnSync(PYTHON, ['-c', 'import redis'], { timeout: 10_000 }).status === 0;
const PY_CHECK = fileURLToPath(new URL('./redis_py_check.py', import.meta.url));

/**
 * Two node-redis clients of `server`, each with its defaults, for `body`; an
 * error either reports fails the test, and both quit afterwards.
 */
async function withNodeRedis(
  server: RunningServer,
  body: (client: NodeRedis, other: NodeRedis) => Promise<void>,
): Promise<void> {
  const url = `redis://${server.host}:${server.port}`;
  const clients = [nodeRedis(url), nodeRedis(url)] as const;
  const errors: string[] = [];
  // node-redis retries forever on an error at connect: count them, fail on any.
  for (const client of clients) client.on('error', (e: Error) => errors.push(e.message));
  for (const client of clients) await client.connect();
  try {
    await body(...clients);
    assert.deepEqual(errors, []);
  } finally {
    for (const client of clients) await client.quit();
  }
}
const nodeRedis = (url: string) => createClient({ url });
type NodeRedis = ReturnType<typeof nodeRedis>;

/** How many clients the server says are blocked (INFO's blocked_clients). */
const blockedClients = (info: string) => Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? -1);

for (const step of ['01', '03', '06']) {
  const hasLists = step !== '03'; // steps 02-05 have neither expiry nor lists (see docs/race-conditions.md)
  describe(`step ${step}: real clients with their defaults`, { timeout: 60_000 }, () => {
    let server: RunningServer;
    before(async () => {
      server = await launchStep(step, { args: ['--quiet'] });
    });
    after(() => server?.stop());

    it('node-redis: HELLO 3 at connect, then strings, counters, 1,000 pipelined, WATCH', async () => {
      await withNodeRedis(server, async (client, other) => {
        assert.equal((await client.hello()).proto, 3, 'the connection speaks RESP3');
        assert.equal(await client.set('nr:s', 'hello world'), 'OK');
        assert.equal(await client.get('nr:s'), 'hello world');
        assert.equal(await client.get('nr:missing'), null);
        assert.equal(await client.set('nr:s', 'x', { NX: true }), null);
        assert.equal(await client.mSet({ 'nr:a': '1', 'nr:b': '2' }), 'OK');
        assert.deepEqual(await client.mGet(['nr:a', 'nr:b', 'nr:none']), ['1', '2', null]);
        assert.equal(await client.exists(['nr:a', 'nr:none']), 1);
        assert.equal(await client.del(['nr:a', 'nr:b']), 2);

        assert.equal(await client.incr('nr:n'), 1);
        assert.equal(await client.incrBy('nr:n', 41), 42);
        assert.equal(await client.decrBy('nr:n', 2), 40);
        assert.equal(await client.decr('nr:n'), 39);
        assert.equal(await client.incrByFloat('nr:f', 2.5), '2.5');

        const pipeline = client.multi();
        for (let i = 0; i < 1000; i++) pipeline.incr('nr:pipe');
        const replies = await pipeline.execAsPipeline();
        assert.equal(replies.length, 1000);
        assert.equal(replies[999], 1000);
        assert.deepEqual(await client.multi().get('nr:pipe').incr('nr:pipe').exec(), ['1000', 1001]);

        await client.set('nr:w', '10');
        await client.watch('nr:w');
        const value = Number(await client.get('nr:w'));
        await other.set('nr:w', '100'); // another client writes between our read and EXEC
        await assert.rejects(client.multi().set('nr:w', String(value + 1)).exec(), /watched keys has been changed/);
        await client.watch('nr:w');
        const again = Number(await client.get('nr:w'));
        assert.deepEqual(await client.multi().set('nr:w', String(again + 1)).exec(), ['OK']);
        assert.equal(await client.get('nr:w'), '101');
      });
    });

    it('node-redis: SET EX, TTL, PEXPIRE until gone, PERSIST; BLPOP served by another client', { skip: !hasLists }, async () => {
      await withNodeRedis(server, async (client, waiter) => {
        assert.equal(await client.set('nr:e', 'v', { expiration: { type: 'EX', value: 100 } }), 'OK');
        assert.equal(await client.ttl('nr:e'), 100);
        assert.equal(await client.persist('nr:e'), 1);
        assert.equal(await client.ttl('nr:e'), -1);
        assert.equal(await client.pExpire('nr:e', 30), 1);
        await until(async () => (await client.get('nr:e')) === null, 'nr:e expired');
        assert.equal(await client.ttl('nr:e'), -2);

        const popped = waiter.blPop('nr:q', 0);
        await until(async () => blockedClients(await client.info()) === 1, 'the waiter is blocked');
        assert.equal(await client.rPush('nr:q', 'job'), 1);
        assert.deepEqual(await popped, { key: 'nr:q', element: 'job' });
        assert.equal(await client.lLen('nr:q'), 0);
      });
    });

    it('ioredis: SET PX, PTTL, EXPIRE until gone; BRPOP served by another client', { skip: !hasLists }, async () => {
      const client = new Redis(server.port, server.host, { maxRetriesPerRequest: 1 });
      const waiter = new Redis(server.port, server.host, { maxRetriesPerRequest: 1 });
      try {
        assert.equal(await client.set('io:e', 'v', 'PX', 100_000), 'OK');
        const pttl = await client.pttl('io:e');
        assert.ok(pttl > 90_000 && pttl <= 100_000, `PTTL ${pttl}`);
        assert.equal(await client.pexpire('io:e', 30), 1);
        await until(async () => (await client.exists('io:e')) === 0, 'io:e expired');

        const popped = waiter.brpop('io:q', 0);
        await until(async () => blockedClients(await client.info()) === 1, 'the waiter is blocked');
        assert.equal(await client.lpush('io:q', 'first', 'last'), 2);
        assert.deepEqual(await popped, ['io:q', 'first']);
        assert.deepEqual(await client.lrange('io:q', 0, -1), ['last']);
      } finally {
        await Promise.all([client.quit(), waiter.quit()]);
      }
    });

    it('ioredis: strings, counters, 1,000 pipelined, WATCH', async () => {
      const client = new Redis(server.port, server.host, { maxRetriesPerRequest: 1 });
      const other = new Redis(server.port, server.host, { maxRetriesPerRequest: 1 });
      try {
        assert.equal(await client.set('io:s', 'hello world'), 'OK');
        assert.equal(await client.get('io:s'), 'hello world');
        assert.equal(await client.get('io:missing'), null);
        assert.equal(await client.set('io:s', 'x', 'NX'), null);
        assert.equal(await client.mset('io:a', '1', 'io:b', '2'), 'OK');
        assert.deepEqual(await client.mget('io:a', 'io:b', 'io:none'), ['1', '2', null]);
        assert.equal(await client.del('io:a', 'io:b'), 2);

        assert.equal(await client.incr('io:n'), 1);
        assert.equal(await client.incrby('io:n', 41), 42);
        assert.equal(await client.decrby('io:n', 2), 40);
        assert.equal(await client.incrbyfloat('io:f', '2.5'), '2.5');

        const pipeline = client.pipeline();
        for (let i = 0; i < 1000; i++) pipeline.incr('io:pipe');
        const replies = await pipeline.exec();
        assert.equal(replies!.length, 1000);
        assert.deepEqual(replies![999], [null, 1000]);

        await client.set('io:w', '10');
        await client.watch('io:w');
        const value = Number(await client.get('io:w'));
        await other.set('io:w', '100');
        assert.equal(await client.multi().set('io:w', String(value + 1)).exec(), null, 'EXEC refused: a watched key changed');
        await client.watch('io:w');
        const again = Number(await client.get('io:w'));
        assert.deepEqual(await client.multi().set('io:w', String(again + 1)).exec(), [[null, 'OK']]);
        assert.equal(await client.get('io:w'), '101');
      } finally {
        // quit() waits for the server's OK and the close: nothing is left for the server's shutdown to cut.
        await Promise.all([client.quit(), other.quit()]);
      }
    });

    it('redis-py: strings, counters (INCRBY), a 1,000-command pipeline (MULTI/EXEC), WATCH', {
      skip: havePyRedis ? false : `${PYTHON} has no redis module (apt-get install python3-redis)`,
    }, () => {
      const run = spawnSync(PYTHON, [PY_CHECK, String(server.port), hasLists ? 'lists' : 'no-lists'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(run.status, 0, `redis_py_check.py failed:\n${run.stderr}`);
      const out = JSON.parse(run.stdout) as Record<string, unknown>;
      assert.deepEqual({ ...out, version: undefined }, {
        version: undefined, get: 'hello world', get_missing: null, set_nx: null, mset_mget: ['1', '2', null], delete: 2,
        incr: 1, incr_by: 42, decr: 40, incrbyfloat: 2.5,
        pipeline_len: 1000, pipeline_last: 1000, pipeline_get: 1000,
        watch_attempts: 2, watch_final: 101,
        ...(hasLists ? { ttl: 100, expired: true, ttl_gone: -2, blpop: ['py:q', 'job'], blpop_timeout: null } : {}),
      });
    });
  });
}
