import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { commandSuite, hostileInputSuite, withServer } from '../../tester/harness/server-suites.ts';
import { expiryAndListSuite } from '../../tester/harness/expiry-list-suites.ts';

// Step 01's tests: the shared suites (every step passes them), and a check
// that a Redis client library nobody here wrote can talk to our server.
// Run them alone with: npm run test:step -- 01

commandSuite('01');
hostileInputSuite('01');

describe('step 01: a real Redis client library (ioredis) talks to it', () => {
  const server = withServer('01', []);
  let redis: Redis;
  before(() => {
    redis = new Redis({ host: server().host, port: server().port, lazyConnect: true, maxRetriesPerRequest: 0 });
    return redis.connect();
  });
  after(() => redis.quit());

  it('sets, gets, increments and deletes with standard commands', async () => {
    assert.equal(await redis.set('lib:key', 'hello world'), 'OK');
    assert.equal(await redis.get('lib:key'), 'hello world');
    assert.equal(await redis.set('lib:key', 'other', 'NX'), null);
    assert.equal(await redis.incr('lib:n'), 1);
    assert.equal(await redis.del('lib:key', 'lib:n', 'lib:none'), 2);
    assert.equal(await redis.get('lib:key'), null);
    assert.equal(await redis.ping(), 'PONG');
  });

  it('speaks our own commands and sees our error codes', async () => {
    assert.equal(await redis.call('POST', 'lib:own', 'v'), 'OK');
    await assert.rejects(redis.call('POST', 'lib:own', 'v'), /^ReplyError: ALREADY_EXISTS /);
    await assert.rejects(redis.call('PUT', 'lib:missing', 'v'), /^ReplyError: NOT_FOUND /);
  });

  it('pipelines 1,000 commands and gets every reply in order', async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 1000; i++) pipeline.set(`lib:p:${i}`, String(i)).get(`lib:p:${i}`);
    const results = (await pipeline.exec())!;
    for (let i = 0; i < 1000; i++) {
      assert.deepEqual(results[2 * i], [null, 'OK']);
      assert.deepEqual(results[2 * i + 1], [null, String(i)]);
    }
  });
});

expiryAndListSuite('01');
