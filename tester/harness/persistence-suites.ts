import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from './launch.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { scratchDir } from './scratch-dir.ts';
import { TEST_TIMEOUT_MS } from './test-runner.ts';
import { ask } from './server-suites.ts';
import { until } from './until.ts';

// Tests that every step with persistence (04, 05, 06) must pass: what was
// acknowledged survives a restart, and no worker process outlives the server.
//   persistenceSuite('05', ['--workers', '2']);

/** A fresh data folder, /tmp/kv-data-XXXXXX, removed when this process ends, even after a failure. */
export const tempDataDir = (): string => scratchDir('kv-data-');

export function start(step: string, dataDir: string, args: string[] = []): Promise<RunningServer> {
  return launchStep(step, { args: ['--quiet', '--data-dir', dataDir, ...args] });
}

/** The worker pids from the server's `worker processes: 123, 456` log line. */
export function workerPids(server: RunningServer): number[] {
  const match = /worker processes: ([\d, ]+)/.exec(server.log());
  assert.ok(match, `no 'worker processes:' line in the log:\n${server.log()}`);
  return match[1]!.split(',').map((pid) => Number(pid.trim()));
}

/**
 * SIGKILLs the server and resolves once every process that shared its stderr
 * (the server and its worker processes, which inherit it) has exited: the
 * pipe closes only then. An event, not a sleep.
 */
export async function killAndWaitForWorkers(server: RunningServer): Promise<void> {
  const closed = new Promise((resolve) => server.child.stderr!.once('close', resolve));
  await server.stop('SIGKILL');
  await closed;
}

/** Every key and value, from DUMP. */
export async function dump(connection: Connection): Promise<Map<string, string>> {
  const reply = await connection.send('DUMP');
  assert.ok(reply.type === 'array' && reply.value !== null, 'DUMP replies with an array');
  const items = reply.value.map((item) => (item.type === 'bulk' ? String(item.value) : '?'));
  const map = new Map<string, string>();
  for (let i = 0; i < items.length; i += 2) map.set(items[i]!, items[i + 1]!);
  return map;
}

/**
 * Clients writing their own keys as fast as they can; records what was
 * acknowledged, and the one write per client that was sent but not answered
 * when the server went away: that one may or may not have happened.
 */
function writers(server: RunningServer, clients: number) {
  const acked = new Map<string, string>(); // key -> last acknowledged value
  const unanswered = new Map<string, string | null>(); // key -> value (null: a DEL) sent, no reply
  let ackedIncrs = 0;
  let sentIncrs = 0;
  let stopped = false;
  const running = Array.from({ length: clients }, async (_, c) => {
    const connection = await Connection.open(server.host, server.port);
    try {
      for (let i = 0; !stopped; i++) {
        const key = `client${c}:key${i % 20}`;
        const value = `value ${i}`;
        unanswered.set(key, value);
        if (describeReply(await connection.send('SET', key, value)) !== 'OK') break;
        unanswered.delete(key);
        acked.set(key, value);
        if (i % 5 === 0) {
          sentIncrs++;
          await connection.send('INCR', 'shared:counter');
          ackedIncrs++;
        }
        if (i % 7 === 3) {
          const gone = `client${c}:key${(i + 1) % 20}`;
          unanswered.set(gone, null);
          if (describeReply(await connection.send('DEL', gone)) === '(integer) 1') acked.delete(gone);
          unanswered.delete(gone);
        }
      }
    } catch {
      // the server went away mid-request: that request was not acknowledged
    } finally {
      connection.destroy();
    }
  });
  return {
    acked,
    unanswered,
    counts: () => ({ ackedIncrs, sentIncrs }),
    writes: () => acked.size,
    stop: async () => { stopped = true; await Promise.all(running); },
    done: () => Promise.all(running),
  };
}

async function assertRestored(
  step: string, dataDir: string, args: string[],
  load: { acked: Map<string, string>; unanswered: Map<string, string | null> },
  counts: { ackedIncrs: number; sentIncrs: number },
): Promise<void> {
  const again = await start(step, dataDir, args);
  try {
    const connection = await Connection.open(again.host, again.port);
    const restored = await dump(connection);
    for (const [key, value] of load.acked) {
      const found = restored.get(key) ?? null;
      // A later write that was sent but never answered may have happened too.
      const laterWrite = load.unanswered.has(key) && load.unanswered.get(key) === found;
      assert.ok(found === value || laterWrite,
        `acknowledged ${key}=${value} is ${found ?? 'missing'} after restart`);
    }
    const counter = Number(restored.get('shared:counter') ?? 0);
    assert.ok(counter >= counts.ackedIncrs && counter <= counts.sentIncrs,
      `counter ${counter}: ${counts.ackedIncrs} INCRs were acknowledged, ${counts.sentIncrs} sent`);
    await connection.close();
  } finally {
    await again.stop();
  }
}

/** For a test that starts a server more than once: bounded, more widely than one command's test (test-runner.ts). */
export const BOUNDED_WITH_RESTARTS = { timeout: 2 * TEST_TIMEOUT_MS };

export function persistenceSuite(step: string, args: string[] = []): void {
  describe(`step ${step}: persistence`, () => {
    it('SIGTERM while clients write, restart on the same data dir: every acknowledged write is back', BOUNDED_WITH_RESTARTS, async () => {
      const dataDir = tempDataDir();
      const server = await start(step, dataDir, args);
      const load = writers(server, 4);
      await until(() => load.writes() >= 60, 'the clients have written 60 keys');
      const exit = await server.stop('SIGTERM'); // while they are still writing
      await load.done();
      assert.deepEqual(exit, { code: 0, signal: null }, `graceful exit expected:\n${server.log()}`);
      assert.ok(load.acked.size >= 60);
      await assertRestored(step, dataDir, args, load, load.counts());
    });

    it('SIGKILL: no worker process outlives the server', BOUNDED_WITH_RESTARTS, async () => {
      const server = await start(step, tempDataDir(), args);
      const pids = workerPids(server);
      assert.ok(pids.length >= 1 && pids.every((pid) => !processGone(pid)), 'the workers run');
      await killAndWaitForWorkers(server);
      // A process closes its stderr a moment before it is gone: wait for that
      // with a deadline instead of checking once (which failed now and then).
      await until(() => pids.every(processGone), `the worker processes ${pids.join(', ')} have exited`)
        .catch(() => assert.fail(`worker ${pids.find((pid) => !processGone(pid))} outlived the server`));
    });

    it('--durable: every acknowledged write is back after SIGKILL and restart', BOUNDED_WITH_RESTARTS, async () => {
      const dataDir = tempDataDir();
      const durable = [...args, '--durable'];
      const server = await start(step, dataDir, durable);
      const load = writers(server, 4);
      await until(() => load.writes() >= 60, 'the clients have written 60 keys');
      await killAndWaitForWorkers(server);
      await load.done();
      await assertRestored(step, dataDir, durable, load, load.counts());
    });

    redisWritesReplayTest(step, args);
  });
}

/** MSET, INCRBY, FLUSHDB... and EXEC's writes reach the log like any SET, and come back at restart. */
export function redisWritesReplayTest(step: string, args: string[] = []): void {
  it("Redis's write commands and a transaction's writes are logged and replayed", async () => {
    const dataDir = tempDataDir();
    try {
      const server = await start(step, dataDir, args);
      const c = await Connection.open(server.host, server.port);
      const say = async (...request: string[]) => describeReply(await c.send(...request));
      assert.equal(await say('MSET', 'gone:1', 'x', 'gone:2', 'y'), 'OK');
      assert.equal(await say('FLUSHDB'), 'OK'); // logged as one DEL per key
      assert.equal(await say('MSET', 'm1', '1', 'm2', '2'), 'OK');
      assert.equal(await say('INCRBY', 'n', '5'), '(integer) 5');
      assert.equal(await say('DECR', 'n'), '(integer) 4');
      assert.equal(await say('INCRBYFLOAT', 'f', '1.5'), '"1.5"');
      assert.equal(await say('WATCH', 't'), 'OK');
      assert.equal(await say('MULTI'), 'OK');
      for (const request of [['SET', 't', '1'], ['INCRBY', 't', '9'], ['DEL', 'm2']]) assert.equal(await say(...request), 'QUEUED');
      assert.equal(await say('EXEC'), '[OK, (integer) 10, (integer) 1]');
      await c.close();
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });

      const again = await start(step, dataDir, args);
      const d = await Connection.open(again.host, again.port);
      assert.deepEqual(Object.fromEntries(await dump(d)), { m1: '1', n: '4', f: '1.5', t: '10' });
      await d.close();
      await again.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

/**
 * Issue 11's scenario: a server is SIGKILLed while its worker process still
 * drains the tasks it had received (--task-cpu-ms 5: 5 ms each), and a new
 * server is started on the same data directory at once. The new server must
 * not write into the folder while the old worker does: a write it
 * acknowledges must still be there after the old worker is gone and the
 * server restarts. (Without ownership of the folder, the new server replayed
 * a partial log, and the old worker's late appends landed after its write.)
 */
export function ownershipSuite(step: string, args: string[] = []): void {
  describe(`step ${step}: the data directory has one owner`, () => {
    it('SIGKILL while the worker process drains, restart at once: a write acknowledged after the restart survives', { timeout: 180_000 }, async () => {
      const dataDir = tempDataDir();
      // Whatever fails, nothing this test started outlives it.
      const servers: RunningServer[] = [];
      const connections: Connection[] = [];
      const open = async (server: RunningServer) => {
        const connection = await Connection.open(server.host, server.port);
        connections.push(connection);
        return connection;
      };
      try {
        const first = await start(step, dataDir, [...args, '--task-cpu-ms', '5']);
        servers.push(first);
        const oldWorkers = workerPids(first);
        // 2,000 writes to one key, acknowledged at once (the queue has room):
        // 10 s of CPU for the worker process that has the key.
        const writer = await open(first);
        const replies = await writer.pipeline(Array.from({ length: 2000 }, (_, i) => ['SET', 'key:000000000000', `old-${i}`]));
        assert.ok(replies.every((reply) => describeReply(reply) === 'OK'), 'the 2,000 SETs are acknowledged');
        await first.stop('SIGKILL');
        assert.ok(oldWorkers.some((pid) => !processGone(pid)), 'an old worker process still drains when the new server starts');

        // It may wait for the old worker process before it listens: give it time.
        const second = await launchStep(step, { args: ['--quiet', '--data-dir', dataDir, ...args], startTimeoutMs: 120_000 });
        servers.push(second);
        assert.equal(await ask(await open(second), 'SET', 'key:000000000000', 'NEW-ACKED'), 'OK');
        await until(() => oldWorkers.every(processGone), `the old worker processes ${oldWorkers.join(', ')} have exited`, 90_000);
        await second.stop();

        const third = await start(step, dataDir, args);
        servers.push(third);
        assert.equal(await ask(await open(third), 'GET', 'key:000000000000'), '"NEW-ACKED"',
          `the acknowledged write was lost; the second server's log said:\n${second.log()}`);
      } finally {
        for (const connection of connections) connection.destroy();
        await Promise.all(servers.map((server) => server.stop('SIGKILL')));
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
