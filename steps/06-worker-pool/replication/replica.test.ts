import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Connection } from '../../../shared/client/connection.ts';
import { describeReply } from '../../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from '../../../tester/harness/launch.ts';
import { dump, tempDataDir } from '../../../tester/harness/persistence-suites.ts';
import {
  HAVE_REDIS, NO_REDIS, expiryAndListExpected, expiryAndListView, expiryAndListWrites, scanAll, startRedis,
} from './fixtures.ts';
import { infoField } from '../../../tester/harness/info.ts';
import { until } from '../../../tester/harness/until.ts';

// Step 06 as a replica: of another step 06, of a real redis-server, through
// a link that is cut, and of a primary that sends garbage.

const BOUNDED = { timeout: 120_000 };

const startStep06 = (dataDir: string, args: string[] = []): Promise<RunningServer> =>
  launchStep('06', { args: ['--quiet', '--data-dir', dataDir, '--workers', '1', '--threads', '1', ...args] });

const linkUp = (c: Connection) => until(async () => (await infoField(c, 'master_link_status')) === 'up', 'the replica link to be up');

/** A TCP proxy to `port` that a test can cut (close every link and refuse new ones) and restore. */
async function proxy(target: number): Promise<{ port: number; cut(): void; restore(): void; retarget(port: number): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let open = true;
  let port = target;
  const server = net.createServer((client) => {
    if (!open) { client.destroy(); return; }
    const upstream = net.connect({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) { sockets.add(s); s.on('error', () => {}); s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); }); }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() { open = false; for (const s of sockets) s.destroy(); },
    restore() { open = true; },
    retarget(next: number) { port = next; },
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

describe('step 06 as a replica of step 06', () => {
  it('lists and expiry times reach it, in the RDB and in the stream: LRANGE, TTL and GET agree', BOUNDED, async () => {
    const primary = await startStep06(tempDataDir());
    const p = await Connection.open(primary.host, primary.port);
    let replica: RunningServer | null = null;
    try {
      await expiryAndListWrites(p, 'before'); // in the RDB
      replica = await startStep06(tempDataDir(), ['--replicaof', `127.0.0.1 ${primary.port}`]);
      const r = await Connection.open(replica.host, replica.port);
      try {
        await linkUp(r);
        await expiryAndListWrites(p, 'after'); // in the stream
        assert.equal(describeReply(await p.send('WAIT', '1', '10000')), '(integer) 1');
        for (const prefix of ['before', 'after']) {
          assert.deepEqual(await expiryAndListView(p, prefix), expiryAndListExpected(prefix), `the primary, ${prefix}`);
          assert.deepEqual(await expiryAndListView(r, prefix), expiryAndListExpected(prefix), `the replica, ${prefix}`);
        }
      } finally {
        await r.close();
      }
    } finally {
      await p.close();
      await replica?.stop();
      await primary.stop();
    }
  });

  it('a full sync of 100,000 keys while writes go on: the replica equals the primary; it is read-only and keeps its data in its own logs', BOUNDED, async () => {
    const primary = await startStep06(tempDataDir());
    const p = await Connection.open(primary.host, primary.port);
    const replicaDir = tempDataDir();
    let replica: RunningServer | null = null;
    try {
      const batches: string[][] = [];
      for (let batch = 0; batch < 200; batch++) { // MSETs of 500 keys (a request has at most 1024 arguments)
        const pairs: string[] = ['MSET'];
        for (let i = 0; i < 500; i++) pairs.push(`key:${batch * 500 + i}`, `value-${batch}-${i}`);
        batches.push(pairs);
      }
      await p.pipeline(batches);
      assert.equal(describeReply(await p.send('DBSIZE')), '(integer) 100000');
      replica = await startStep06(replicaDir, ['--replicaof', `127.0.0.1 ${primary.port}`]);
      const r = await Connection.open(replica.host, replica.port);
      // Writes go on while the replica syncs.
      let writing = true;
      let written = 0;
      const writer = (async () => {
        const w = await Connection.open(primary.host, primary.port);
        while (writing) { await w.send('SET', `during:${written % 500}`, String(written)); await w.send('DEL', `key:${written}`); written++; }
        await w.close();
      })();
      await linkUp(r);
      writing = false;
      await writer;
      assert.ok(written > 0, 'writes happened during the sync');
      assert.equal(describeReply(await p.send('WAIT', '1', '20000')), '(integer) 1');
      const ours = await dump(p); // our DUMP: every pair in one reply (SCAN + MGET of 100,000 keys is slow here)
      assert.equal(ours.size, 100_000 - written + Math.min(written, 500));
      assert.deepEqual(await dump(r), ours);
      assert.match(describeReply(await r.send('SET', 'k', 'v')), /^READONLY You can't write against a read only replica\.$/);
      assert.match(describeReply(await r.send('ROLE')), /^\["slave", "127\.0\.0\.1", \(integer\) \d+, "connected", \(integer\) \d+\]$/);
      await r.close();
      // The replica persisted what it received: restarted alone, it has it all.
      await replica.stop();
      replica = await startStep06(replicaDir);
      const again = await Connection.open(replica.host, replica.port);
      assert.deepEqual(await dump(again), ours);
      assert.equal(describeReply(await again.send('SET', 'k', 'v')), 'OK', 'a primary again: writable');
      await again.close();
    } finally {
      await p.close();
      await replica?.stop();
      await primary.stop();
    }
  });

  it('after a cut link the replica reconnects and resumes with +CONTINUE; REPLICAOF NO ONE promotes it with its data', BOUNDED, async () => {
    const primary = await startStep06(tempDataDir());
    const link = await proxy(primary.port);
    const replica = await startStep06(tempDataDir(), ['--replicaof', `127.0.0.1 ${link.port}`]);
    const p = await Connection.open(primary.host, primary.port);
    const r = await Connection.open(replica.host, replica.port);
    try {
      await p.send('SET', 'before', '1');
      await linkUp(r);
      await until(async () => describeReply(await r.send('GET', 'before')) === '"1"', 'the first write');
      link.cut();
      await until(async () => (await infoField(r, 'master_link_status')) === 'down', 'the replica to see the link down');
      assert.equal(describeReply(await r.send('GET', 'before')), '"1"', 'reads still served');
      await p.send('SET', 'during', '2'); // missed: it is in the primary's backlog
      link.restore();
      await until(async () => describeReply(await r.send('GET', 'during')) === '"2"', 'the missed write after reconnecting', 30_000);
      assert.equal(await infoField(r, 'repl_partial_syncs'), '1');
      assert.equal(await infoField(r, 'repl_full_syncs'), '1');
      assert.match(replica.log(), /\+CONTINUE/);
      assert.equal(await infoField(p, 'batch_delay_ms'), '10', 'a primary gathers 10 ms of writes per message to a worker process');
      assert.equal(await infoField(r, 'batch_delay_ms'), '50', 'a replica gathers its writes longer (server.ts: batchDelayMs)');
      assert.equal(describeReply(await r.send('REPLICAOF', 'NO', 'ONE')), 'OK');
      assert.equal(await infoField(r, 'role'), 'master');
      assert.equal(await infoField(r, 'batch_delay_ms'), '10', "promoted, it gathers a primary's 10 ms");
      assert.equal(describeReply(await r.send('SET', 'mine', '3')), 'OK');
      assert.equal(describeReply(await r.send('GET', 'during')), '"2"', 'promoted with its data');
    } finally {
      await Promise.all([p.close(), r.close()]);
      await replica.stop();
      await link.close();
      await primary.stop();
    }
  });

  it('a restarted primary has a new id: the replica resyncs in full and drops what the new history does not have', BOUNDED, async () => {
    const first = await startStep06(tempDataDir());
    const link = await proxy(first.port);
    const replica = await startStep06(tempDataDir(), ['--replicaof', `127.0.0.1 ${link.port}`]);
    const r = await Connection.open(replica.host, replica.port);
    let second: RunningServer | null = null;
    try {
      const p1 = await Connection.open(first.host, first.port);
      await p1.send('SET', 'old', '1');
      await linkUp(r);
      await until(async () => describeReply(await r.send('GET', 'old')) === '"1"', 'the first primary\'s write');
      await p1.close();
      await first.stop();
      second = await startStep06(tempDataDir()); // another primary, another history: empty, a new id
      link.retarget(second.port);
      const p2 = await Connection.open(second.host, second.port);
      await p2.send('SET', 'new', '2');
      await until(async () => describeReply(await r.send('GET', 'new')) === '"2"', 'the new primary\'s write', 30_000);
      assert.equal(describeReply(await r.send('GET', 'old')), '(nil)', 'a full resync replaced the data');
      assert.equal(await infoField(r, 'repl_full_syncs'), '2');
      assert.equal(await infoField(r, 'master_replid'), await infoField(p2, 'master_replid'));
      await p2.close();
    } finally {
      await r.close();
      await replica.stop();
      await link.close();
      await second?.stop();
      await first.stop();
    }
  });

  it('a primary that sends garbage: the replica says why, drops the link, retries, and keeps serving', BOUNDED, async () => {
    let attempts = 0;
    const fake = net.createServer((socket) => {
      attempts++;
      socket.on('error', () => {});
      socket.on('data', (chunk) => {
        if (chunk.toString().includes('PSYNC')) socket.write(`+FULLRESYNC ${'a'.repeat(40)} 0\r\n$12\r\nHELLO-WORLD!`);
        else socket.write('+OK\r\n');
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const replica = await startStep06(tempDataDir(), ['--replicaof', `127.0.0.1:${(fake.address() as net.AddressInfo).port}`]);
    try {
      await until(() => attempts >= 2, 'a second attempt');
      assert.match(replica.log(), /cannot load the primary's snapshot: not an RDB file/);
      const r = await Connection.open(replica.host, replica.port);
      assert.equal(await infoField(r, 'master_link_status'), 'down');
      assert.equal(describeReply(await r.send('PING')), 'PONG');
      await r.close();
    } finally {
      await replica.stop();
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});

describe('step 06 as a replica of a real redis-server', { skip: HAVE_REDIS ? false : NO_REDIS }, () => {
  for (const diskless of ['yes', 'no']) {
    it(`loads its RDB (integers, LZF-compressed strings; repl-diskless-sync ${diskless}) and follows its stream; refuses a list clearly`, BOUNDED, async () => {
      const redis = await startRedis(['--repl-diskless-sync', diskless, '--repl-diskless-sync-delay', '0']);
      const master = await Connection.open('127.0.0.1', redis.port);
      const replica = await startStep06(tempDataDir());
      const r = await Connection.open(replica.host, replica.port);
      try {
        await master.send('SET', 'int8', '-7');
        await master.send('SET', 'int32', '1234567');
        await master.send('SET', 'lzf', 'abc'.repeat(1000)); // compressible: Redis stores it LZF-compressed
        await master.send('SET', 'binary', Buffer.from([0, 255, 13, 10]));
        for (let i = 0; i < 500; i++) await master.send('SET', `k${i}`, `v${i}`);
        assert.equal(describeReply(await r.send('REPLICAOF', '127.0.0.1', String(redis.port))), 'OK');
        await linkUp(r);
        await master.send('SET', 'after', 'sync');
        await master.send('INCR', 'int8');
        assert.equal(describeReply(await master.send('WAIT', '1', '10000')), '(integer) 1', 'our ACKs count for Redis');
        assert.deepEqual(await scanAll(r), await scanAll(master));
        assert.match(replica.log(), /full resync from .*: 504 keys loaded/);
        // A type we do not store: refused, said clearly, no crash.
        await master.send('RPUSH', 'list', 'a');
        await r.send('REPLICAOF', 'NO', 'ONE');
        await r.send('REPLICAOF', '127.0.0.1', String(redis.port)); // a new full resync (our replid moved on)
        await until(() => /loads strings and plain lists/.test(replica.log()), 'the refusal in the log', 20_000, { detail: replica.log });
        assert.match(replica.log(), /the RDB holds a list \(quicklist 2\) .*: this server loads strings and plain lists \(type 1\) only/);
        assert.equal(await infoField(r, 'master_link_status'), 'down');
        assert.equal(describeReply(await r.send('GET', 'after')), '"sync"', 'still serving what it had');
      } finally {
        await Promise.all([master.close(), r.close()]);
        await replica.stop();
        await redis.stop();
      }
    });
  }
});
