// --sync-replicas N: a write is answered only once N replicas have acknowledged it, so a failover after its OK keeps it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../../shared/client/connection.ts';
import { findStep } from '../../../shared/cli/steps.ts';
import { describeReply, type Reply } from '../../../shared/protocol/reply.ts';
import { FaultProxy } from '../../../tester/fault-proxy.ts';
import { replicationInfo, startNode, waitFor, within, type ReplicationNode } from '../../../tester/replication-nodes.ts';

// A primary and a replica of it through the tester's fault proxy (the
// replication scenario's, tester/fault-proxy.ts). With the link blackholed
// the replica cannot acknowledge anything, so a primary with
// --sync-replicas 1 must hold the OK of a write until the link heals; once
// the OK has come, the primary may die: the promoted replica has the write.

const BOUNDED = { timeout: 120_000 };
const SERVER = findStep('06').server;

async function withPair(primaryArgs: string[], body: (p: Connection, info: Connection, r: Connection, proxy: FaultProxy, primary: ReplicationNode) => Promise<void>): Promise<void> {
  const primary = await startNode({ kind: 'server', file: SERVER, args: primaryArgs }, null);
  const proxy = await FaultProxy.start(primary.host, primary.port);
  let replica: ReplicationNode | null = null;
  const connections: Connection[] = [];
  try {
    replica = await startNode({ kind: 'server', file: SERVER, args: [] }, { host: '127.0.0.1', port: proxy.port });
    for (const [host, port] of [[primary.host, primary.port], [primary.host, primary.port], [replica.host, replica.port]] as const) {
      connections.push(await Connection.open(host, port));
    }
    const [p, info, r] = connections as [Connection, Connection, Connection];
    await waitFor(async () => (await replicationInfo(r, 'master_link_status')) === 'up', 'the replica to sync', 30_000, replica.log);
    await body(p, info, r, proxy, primary);
  } finally {
    for (const c of connections) c.destroy();
    await replica?.stop();
    await primary.stop();
    await proxy.close();
  }
}

describe('exercise 06/sync-replicas', () => {
  it('holds the OK while the replica cannot have the write, sends it once the replica acknowledged, and a failover then keeps the write', BOUNDED, async () => {
    await withPair(['--sync-replicas', '1'], async (p, info, r, proxy, primary) => {
      assert.equal(describeReply(await within(p.send('SET', 'k', 'v1'), 10_000, 'OK for the first SET')), 'OK');
      proxy.blackhole();
      const before = Number(await replicationInfo(info, 'master_repl_offset'));
      let reply: Reply | null = null;
      const pending = p.send('SET', 'k', 'v2').then((answer) => { reply = answer; return answer; });
      // The primary applies the write and puts it in the stream (its offset moves)...
      await waitFor(async () => Number(await replicationInfo(info, 'master_repl_offset')) > before, 'the primary to apply the write');
      // ...and WAIT on another connection says no replica has it. An asynchronous primary has
      // answered the SET long before this WAIT returns; a synchronous one cannot have.
      assert.equal(describeReply(await info.send('WAIT', 1, 500)), '(integer) 0', 'the link is blackholed: no replica can have the write');
      assert.equal(reply, null, `the primary answered ${reply === null ? '' : describeReply(reply)} to a write no replica had: its replication is still asynchronous`);
      proxy.heal();
      assert.equal(describeReply(await within(pending, 10_000, 'reply to the SET after the link healed')), 'OK');
      // After the OK, nothing more may reach the replica, and the primary dies: the write must be there.
      proxy.blackhole();
      primary.signal('SIGKILL');
      await primary.exited;
      assert.equal(describeReply(await r.send('REPLICAOF', 'NO', 'ONE')), 'OK');
      assert.equal(describeReply(await r.send('GET', 'k')), '"v2"', 'the promoted replica lost a write its primary had acknowledged');
    });
  });

  it('without --sync-replicas, replication stays asynchronous: a write is answered even while the link is blackholed', BOUNDED, async () => {
    await withPair([], async (p, _info, _r, proxy) => {
      proxy.blackhole();
      assert.equal(describeReply(await within(p.send('SET', 'k', 'v1'), 10_000, 'OK while the link is blackholed')), 'OK');
    });
  });
});
