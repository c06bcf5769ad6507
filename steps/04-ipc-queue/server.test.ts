import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { commandSuite, hostileInputSuite } from '../../tester/harness/server-suites.ts';
import { ownershipSuite, persistenceSuite, start, tempDataDir } from '../../tester/harness/persistence-suites.ts';
import { stopAfter } from '../../tester/harness/launch.ts';

commandSuite('04', ['--data-dir', tempDataDir()]);
hostileInputSuite('04', ['--data-dir', tempDataDir()]);
persistenceSuite('04');
ownershipSuite('04');

describe('step 04: the bounded queue', () => {
  it('a flood of writes against a slow worker: the queue never holds more than its capacity, writers slow down', async () => {
    // 10 clients x 10 SETs; the worker spends 10 ms per task; the queue holds 5.
    await stopAfter(await start('04', tempDataDir(), ['--queue-capacity', '5', '--task-cpu-ms', '10']), async (server) => {
      const started = Date.now();
      await Promise.all(Array.from({ length: 10 }, async (_, c) => {
        const connection = await Connection.open(server.host, server.port);
        for (let i = 0; i < 10; i++) assert.equal(describeReply(await connection.send('SET', `k${c}:${i}`, 'v')), 'OK');
        await connection.close();
      }));
      const elapsed = Date.now() - started;
      // The 100th write is admitted only after 95 tasks are done: >= 950 ms
      // of the worker's CPU. Without backpressure all 100 would be answered
      // at once, long before.
      assert.ok(elapsed >= 900, `100 writes were answered in ${elapsed} ms: nothing held them back`);
      const info = await Connection.open(server.host, server.port);
      const text = describeReply(await info.send('INFO'));
      const depthMax = Number(/queue_depth_max:(\d+)/.exec(text)?.[1]);
      assert.ok(depthMax >= 1 && depthMax <= 5, `queue_depth_max ${depthMax}, capacity 5`);
      await info.close();
    });
  });
});
