// Replay by sequence number: even a free-dispatch log restores the newest value of each key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../../shared/client/connection.ts';
import { ask } from '../../../tester/harness/server-suites.ts';
import { BOUNDED_WITH_RESTARTS, start, tempDataDir } from '../../../tester/harness/persistence-suites.ts';

describe('exercise 05/seq-replay', () => {
  it('free dispatch, older write logged last: after a restart the key holds the newer value', BOUNDED_WITH_RESTARTS, async (t) => {
    const dataDir = tempDataDir();
    const args = ['--workers', '2', '--dispatch', 'free', '--task-cpu-ms', '5'];
    const server = await start('05', dataDir, args);
    t.after(() => server.stop());
    const c = await Connection.open(server.host, server.port);
    await c.pipeline([['SET', 'hot', 'old'], ...Array.from({ length: 40 }, (_, i) => ['SET', `filler${i}`, 'x'])]);
    await ask(c, 'SET', 'hot', 'new');
    await c.close();
    await server.stop();
    const again = await start('05', dataDir, args);
    t.after(() => again.stop());
    const reader = await Connection.open(again.host, again.port);
    assert.equal(await ask(reader, 'GET', 'hot'), '"new"');
    await reader.close();
    await again.stop();
  });
});
