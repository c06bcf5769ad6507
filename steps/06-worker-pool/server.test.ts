import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply, type Reply } from '../../shared/protocol/reply.ts';
import { launchStep, stopAfter } from '../../tester/harness/launch.ts';
import { commandSuite, hostileInputSuite } from '../../tester/harness/server-suites.ts';
import { dump, ownershipSuite, redisWritesReplayTest, start, tempDataDir, workerPids } from '../../tester/harness/persistence-suites.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { until } from '../../tester/harness/until.ts';
import { infoField, untilInfo } from '../../tester/harness/info.ts';
import { expiryAndListReplayTest, expiryAndListSuite } from '../../tester/harness/expiry-list-suites.ts';

commandSuite('06', ['--data-dir', tempDataDir()]);
hostileInputSuite('06', ['--data-dir', tempDataDir()]);
describe('step 06: persistence of Redis\'s write commands', () => redisWritesReplayTest('06'));
ownershipSuite('06');
expiryAndListSuite('06', ['--data-dir', tempDataDir()]);
describe('step 06: persistence of expiry and lists', () => expiryAndListReplayTest('06'));

/** INFO's text, lines separated by \n. */
async function infoText(connection: Connection): Promise<string> {
  const reply = await connection.send('INFO');
  assert.ok(reply.type === 'bulk' && reply.value !== null, 'INFO replies with a bulk string');
  return reply.value.toString().replace(/\r\n/g, '\n');
}

/** The next reply nobody asked for (the shutdown notice). */
const notice = (connection: Connection) => new Promise<Reply>((resolve) => {
  connection.onUnsolicited = resolve;
});

describe('step 06: the thread pool', () => {
  it('a heavy command runs on the pool: other clients are answered meanwhile', async () => {
    await stopAfter(await start('06', tempDataDir()), async (server) => {
      const slow = await Connection.open(server.host, server.port);
      const fast = await Connection.open(server.host, server.port);
      let workDone = false;
      const work = slow.send('WORK', '1500').then((reply) => { workDone = true; return reply; });
      await untilInfo(fast, 'pool_busy', '1'); // WORK is running on a pool thread
      for (let i = 0; i < 20; i++) assert.equal(describeReply(await fast.send('SET', `k${i}`, 'v')), 'OK');
      assert.equal(workDone, false, '20 writes were answered while WORK 1500 was still running');
      assert.equal(describeReply(await work), 'OK');
      assert.equal(await infoField(fast, 'pool_jobs_done'), '1');
      await Promise.all([slow.close(), fast.close()]);
    });
  });

  it('configuration comes from flags or KV_* variables and is printed at start', async () => {
    await stopAfter(await launchStep('06', { args: ['--quiet', '--data-dir', tempDataDir(), '--workers', '1'], env: { KV_THREADS: '3' } }), async (server) => {
      assert.match(server.log(), /step 06-worker-pool: .*threads=3 .*workers=1 /);
      const connection = await Connection.open(server.host, server.port);
      assert.equal(await infoField(connection, 'pool_threads'), '3');
      assert.equal(workerPids(server).length, 1);
      await connection.close();
    });
  });
});

describe('step 06: INFO', () => {
  it('shows connections, calls per command, latency percentiles, queue depth, each worker\'s CPU, memory and restarts', async () => {
    await stopAfter(await start('06', tempDataDir()), async (server) => {
      const connection = await Connection.open(server.host, server.port);
      const other = await Connection.open(server.host, server.port);
      for (let i = 0; i < 10; i++) await connection.send('SET', `k${i}`, 'v');
      await connection.send('GET', 'k1');
      const text = await infoText(connection);
      assert.match(text, /connected_clients:2\n/);
      assert.match(text, /calls_set:10\n/);
      assert.match(text, /calls_get:1\n/);
      for (const p of ['p50', 'p90', 'p99', 'p999', 'max']) assert.match(text, new RegExp(`latency_${p}_ms:\\d+\\.\\d{3}\n`));
      assert.match(text, /queue_depth:\d+\n/);
      assert.match(text, /worker_restarts:0\n/);
      assert.match(text, /worker_0:pid=\d+,alive=1,restarts=0,cpu_seconds=\d+\.\d\d,rss_mb=\d+\.\d\n/);
      assert.match(text, /worker_1:pid=\d+/);
      await Promise.all([connection.close(), other.close()]);
    });
  });
});

describe('step 06: graceful shutdown', () => {
  for (const how of ['SIGTERM', 'SIGINT', 'SHUTDOWN'] as const) {
    it(`${how}: a request in flight is answered, clients are told, exit 0, no process left`, async () => {
      const dataDir = tempDataDir();
      const server = await start('06', dataDir);
      const pids = workerPids(server);
      const busy = await Connection.open(server.host, server.port);
      const idle = await Connection.open(server.host, server.port);
      assert.equal(describeReply(await busy.send('SET', 'before', 'shutdown')), 'OK');
      const idleNotice = notice(idle);
      const busyNotice = notice(busy);
      // A heavy request in flight on the pool when the stop comes.
      const work = busy.send('WORK', '400');
      await untilInfo(idle, 'pool_busy', '1'); // the WORK request is running
      if (how === 'SHUTDOWN') {
        const admin = await Connection.open(server.host, server.port);
        assert.equal(describeReply(await admin.send('SHUTDOWN')), 'OK');
      } else {
        server.child.kill(how);
      }
      assert.equal(describeReply(await work), 'OK', 'the request in flight got its reply');
      for (const reply of [await idleNotice, await busyNotice]) {
        assert.ok(reply.type === 'error' && reply.code === 'SHUTTING_DOWN', `a SHUTTING_DOWN notice, got ${describeReply(reply)}`);
      }
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, server.log());
      for (const pid of pids) assert.ok(processGone(pid), `worker process ${pid} outlived the server`);
      // And what was acknowledged is there after a restart.
      const again = await start('06', dataDir);
      const reader = await Connection.open(again.host, again.port);
      assert.equal(describeReply(await reader.send('GET', 'before')), '"shutdown"');
      await reader.close();
      await again.stop();
    });
  }
});

describe('step 06: supervision', () => {
  it('a worker process killed with SIGKILL under load is restarted (INFO counts it) and loses no acknowledged write', async () => {
    const dataDir = tempDataDir();
    const server = await start('06', dataDir);
    const acked = new Map<string, string>();
    let stopped = false;
    let incrs = 0;
    const failures: string[] = [];
    const clients = Array.from({ length: 8 }, async (_, c) => {
      const connection = await Connection.open(server.host, server.port);
      try {
        for (let i = 0; !stopped; i++) {
          const key = `client${c}:key${i % 25}`;
          const reply = describeReply(await connection.send('SET', key, `value ${i}`));
          if (reply !== 'OK') throw new Error(`SET ${key}: ${reply}`);
          acked.set(key, `value ${i}`);
          if (i % 4 === 0) {
            await connection.send('INCR', 'counter');
            incrs++;
          }
        }
        await connection.close();
      } catch (caught) {
        failures.push(`client ${c}: ${(caught as Error).message}`);
        stopped = true;
      }
    });
    try {
      const watcher = await Connection.open(server.host, server.port);
      await until(() => acked.size >= 100, 'the clients have written 100 keys', 20_000);
      const [victim] = workerPids(server);
      process.kill(victim!, 'SIGKILL');
      await until(() => processGone(victim!), 'the worker is gone', 20_000);
      // Keep writing through the restart.
      // The new process is up once INFO says so; writes went on meanwhile.
      await untilInfo(watcher, 'worker_0', (shown) => /alive=1,restarts=1/.test(shown ?? ''));
      assert.equal(await infoField(watcher, 'worker_restarts'), '1');
      const written = acked.size + incrs;
      await until(() => acked.size + incrs > written + 50 || stopped, 'more writes after the restart', 20_000);
      assert.match(server.log(), /worker process 0 restarted as pid \d+/);
      stopped = true;
      await Promise.all(clients);
      assert.deepEqual(failures, []);
      await watcher.close();
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    } catch (caught) {
      throw new Error(`${(caught as Error).message}\nserver log:\n${server.log()}`);
    } finally {
      stopped = true;
      await server.stop('SIGKILL');
    }
    const again = await start('06', dataDir);
    try {
      const reader = await Connection.open(again.host, again.port);
      const restored = await dump(reader);
      for (const [key, value] of acked) assert.equal(restored.get(key), value, `acknowledged ${key}=${value} after restart`);
      assert.equal(restored.get('counter'), String(incrs), 'every acknowledged INCR');
      await reader.close();
    } finally {
      await again.stop();
    }
  });
});
