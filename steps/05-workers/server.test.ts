import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { commandSuite } from '../../tester/harness/server-suites.ts';
import { ownershipSuite, persistenceSuite, start, tempDataDir } from '../../tester/harness/persistence-suites.ts';

commandSuite('05', ['--workers', '2', '--data-dir', tempDataDir()]);
persistenceSuite('05', ['--workers', '2']);
ownershipSuite('05', ['--workers', '2']);

/**
 * Writes `hot=old` together with 40 other keys (one batch, 40 x 5 ms of work
 * for the worker that gets it), then `hot=new` alone, restarts the server on
 * the same data directory, and returns what `hot` is then, and the log.
 */
async function hotKeyAfterRestart(dispatch: 'free' | 'by-key'): Promise<{ hot: string; log: string }> {
  const dataDir = tempDataDir();
  const args = ['--workers', '2', '--dispatch', dispatch, '--task-cpu-ms', '5'];
  const server = await start('05', dataDir, args);
  const connection = await Connection.open(server.host, server.port);
  const fillers = Array.from({ length: 40 }, (_, i) => ['SET', `filler${i}`, 'x']);
  await connection.pipeline([['SET', 'hot', 'old'], ...fillers]); // one read, one message, one batch
  assert.equal(describeReply(await connection.send('SET', 'hot', 'new')), 'OK');
  assert.equal(describeReply(await connection.send('GET', 'hot')), '"new"', 'memory holds the newer value');
  await connection.close();
  assert.equal((await server.stop('SIGTERM')).code, 0); // a clean stop: everything is written
  const again = await start('05', dataDir, args);
  try {
    const reader = await Connection.open(again.host, again.port);
    const hot = describeReply(await reader.send('GET', 'hot'));
    await reader.close();
    return { hot, log: again.log() };
  } finally {
    await again.stop();
  }
}

describe('step 05: the ordering hazard of parallel consumers', () => {
  it('free dispatch: the older write reaches the log last, so replay brings back the older value', async () => {
    const { hot, log } = await hotKeyAfterRestart('free');
    assert.equal(hot, '"old"', 'the hazard did not appear: the log was in order');
    assert.match(log, /WARNING: 1 records were out of order in the log \(key 'hot'/);
  });

  it('by-key dispatch: both writes go through one worker in order, replay brings back the newer value', async () => {
    const { hot, log } = await hotKeyAfterRestart('by-key');
    assert.equal(hot, '"new"');
    assert.doesNotMatch(log, /out of order/);
  });
});

describe('step 05: layouts', () => {
  it('refuses a data dir written with another --workers or --dispatch, with a clear message', async () => {
    const dataDir = tempDataDir();
    const first = await start('05', dataDir, ['--workers', '2']);
    await first.stop();
    await assert.rejects(start('05', dataDir, ['--workers', '2', '--dispatch', 'free']), /another layout/);
  });
});
