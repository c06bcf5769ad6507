// --max-restarts N: a worker process that dies more than N times stops the server (exit 1) instead of a restart loop.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BOUNDED_WITH_RESTARTS, start, tempDataDir, workerPids } from '../../../tester/harness/persistence-suites.ts';
import { processGone } from '../../../shared/persistence/process-gone.ts';
import { until } from '../../../tester/harness/until.ts';

describe('exercise 06/max-restarts', () => {
  it('restarts a dead worker once, then stops with exit code 1 and says why', BOUNDED_WITH_RESTARTS, async (t) => {
    const server = await start('06', tempDataDir(), ['--workers', '1', '--max-restarts', '1']);
    t.after(() => server.stop());
    const [first] = workerPids(server);
    process.kill(first!, 'SIGKILL');
    await until(() => /restarted as pid (\d+)/.test(server.log()), 'the worker is restarted', 20_000);
    const second = Number(/restarted as pid (\d+)/.exec(server.log())![1]);
    process.kill(second, 'SIGKILL');
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 1, signal: null });
    assert.match(server.log(), /more than 1 restart/);
    await until(() => processGone(second), 'no process is left');
  });
});
