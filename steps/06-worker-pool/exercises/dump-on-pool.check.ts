// DUMP walks the whole table: run it on the thread pool, not on the event loop.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../../shared/client/connection.ts';
import { BOUNDED, ask, withServer } from '../../../tester/harness/server-suites.ts';
import { tempDataDir } from '../../../tester/harness/persistence-suites.ts';

describe('exercise 06/dump-on-pool', () => {
  const server = withServer('06', ['--data-dir', tempDataDir()]);

  it('DUMP is answered by a pool thread (INFO counts one pool job), with every entry', BOUNDED, async () => {
    const c = await Connection.open(server().host, server().port);
    for (let i = 0; i < 5; i++) assert.equal(await ask(c, 'SET', `k${i}`, `v${i}`), 'OK');
    const reply = await c.send('DUMP');
    assert.ok(reply.type === 'array' && reply.value !== null && reply.value.length === 10, 'DUMP returns the 5 entries');
    const info = await ask(c, 'INFO');
    assert.match(info, /pool_jobs_done:1\\r\\n/, 'DUMP did not go to the pool');
    await c.close();
  });
});
