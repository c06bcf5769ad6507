import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../../shared/client/connection.ts';
import { describeReply } from '../../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from '../../../tester/harness/launch.ts';
import { tempDataDir } from '../../../tester/harness/persistence-suites.ts';
import { infoField } from '../../../tester/harness/info.ts';
import { until } from '../../../tester/harness/until.ts';

// A chained replica (a replica of a replica): A <- B <- C, all step 06.
// Writes made on A reach C through B. What differs from Redis, and is said in
// docs/replication.md (*A replica of a replica*): B does not forward A's
// stream byte for byte as Redis does; it streams what it applies, as any
// primary of ours, under its own replication id and offsets. So C's
// master_replid is B's id, not A's, and C could not continue from A's backlog
// after a failover: it would resync in full.

const BOUNDED = { timeout: 120_000 };

const startServer = (args: string[] = []): Promise<RunningServer> =>
  launchStep('06', { args: ['--quiet', '--data-dir', tempDataDir(), '--workers', '1', '--threads', '1', ...args] });

describe('step 06: a replica of a replica', () => {
  it('A <- B <- C: writes on A reach C; C is read-only; C follows B under B\'s own id', BOUNDED, async () => {
    const servers: RunningServer[] = [];
    const connections: Connection[] = [];
    try {
      const a = await startServer();
      servers.push(a);
      const b = await startServer(['--replicaof', `127.0.0.1 ${a.port}`]);
      servers.push(b);
      const c = await startServer(['--replicaof', `127.0.0.1 ${b.port}`]);
      servers.push(c);
      const [ca, cb, cc] = await Promise.all([a, b, c].map((s) => Connection.open(s.host, s.port)));
      connections.push(ca!, cb!, cc!);
      await until(async () => (await infoField(cb!, 'master_link_status')) === 'up', 'B to sync from A', 30_000, { detail: b.log });
      await until(async () => (await infoField(cc!, 'master_link_status')) === 'up', 'C to sync from B', 30_000, { detail: c.log });

      for (let i = 0; i < 50; i++) await ca!.send('SET', `chain:${i}`, `v${i}`);
      await ca!.send('INCRBY', 'chain:counter', '7');
      await until(async () => describeReply(await cc!.send('GET', 'chain:counter')) === '"7"', 'the writes to reach C', 30_000, { detail: c.log });
      assert.equal(describeReply(await cc!.send('GET', 'chain:49')), '"v49"');
      assert.equal(describeReply(await cc!.send('DBSIZE')), '(integer) 51');

      const refused = await cc!.send('SET', 'chain:x', '1');
      assert.ok(refused.type === 'error' && refused.code === 'READONLY', `C refuses a client's write: ${describeReply(refused)}`);
      assert.equal(await infoField(ca!, 'connected_slaves'), '1', 'A counts B alone (C is B\'s replica)');
      assert.equal(await infoField(cb!, 'connected_slaves'), '1', 'B counts C');
      assert.equal(await infoField(cb!, 'role'), 'slave');
      const idOfA = await infoField(ca!, 'master_replid');
      assert.equal(await infoField(cb!, 'master_replid'), idOfA, 'B names A\'s id');
      assert.notEqual(await infoField(cc!, 'master_replid'), idOfA, 'C follows B\'s own stream, under B\'s id (Redis would show A\'s)');
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
      for (const server of servers.reverse()) await server.stop();
    }
  });
});
