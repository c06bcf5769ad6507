import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Connection } from '../../../shared/client/connection.ts';
import { describeReply } from '../../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from '../../../tester/harness/launch.ts';
import { tempDataDir } from '../../../tester/harness/persistence-suites.ts';
import { decodeRdb } from './rdb.ts';
import {
  HAVE_REDIS, NO_REDIS, RawReplica, expiryAndListExpected, expiryAndListView, expiryAndListWrites, scanAll, startRedis,
} from './fixtures.ts';
import { infoField } from '../../../tester/harness/info.ts';
import { until } from '../../../tester/harness/until.ts';

// Replication of step 06, on Redis's protocol: a real redis-server as our
// replica, redis-cli --replica, and a hand-made replica on a raw socket.

const BOUNDED = { timeout: 120_000 };

const startPrimary = (args: string[] = []): Promise<RunningServer> =>
  launchStep('06', { args: ['--quiet', '--data-dir', tempDataDir(), '--workers', '1', '--threads', '1', ...args] });

/** Some writes of every kind the stream carries: SET, INCR, MSET, DEL, a transaction, FLUSHDB, binary values. */
async function testerLikeWrites(c: Connection, prefix: string): Promise<void> {
  for (let i = 0; i < 200; i++) await c.send('SET', `${prefix}:${i}`, `v${i}`);
  await c.send('SET', `${prefix}:binary`, Buffer.from([0, 13, 10, 255, 42]));
  for (let i = 0; i < 50; i++) await c.send('INCR', `${prefix}:counter`);
  await c.send('MSET', `${prefix}:m1`, 'a', `${prefix}:m2`, 'b');
  await c.send('DEL', `${prefix}:3`, `${prefix}:4`, `${prefix}:missing`);
  await c.send('MULTI');
  await c.send('SET', `${prefix}:tx1`, 'one');
  await c.send('INCRBY', `${prefix}:counter`, '100');
  await c.send('DEL', `${prefix}:5`);
  assert.equal(describeReply(await c.send('EXEC')), '[OK, (integer) 150, (integer) 1]');
}

/** Waits until the primary's active expiry reclaimed every expired key (DBSIZE counts them until then), without touching one. */
const untilActiveExpiry = (c: Connection) =>
  until(async () => describeReply(await c.send('DBSIZE')) === '(integer) 0', 'active expiry to reclaim the expired key', 10_000);

/** A primary of ours (with `args`) and a client of it, for `body`; both stopped afterwards, pass or fail. */
async function withPrimary(args: string[], body: (c: Connection, primary: RunningServer) => Promise<void>): Promise<void> {
  const primary = await startPrimary(args);
  const c = await Connection.open(primary.host, primary.port);
  try {
    await body(c, primary);
  } finally {
    await c.close();
    await primary.stop();
  }
}

/**
 * A primary of ours and a real redis-server replica of it: `before` writes to
 * the primary first (what the replica gets in the RDB), then the replica is
 * started and waited for, and `online` runs with a client of each. Everything
 * is stopped afterwards, pass or fail.
 */
async function withRedisReplica(
  before: (primary: Connection) => Promise<void>,
  online: (primary: Connection, replica: Connection, redis: Awaited<ReturnType<typeof startRedis>>, server: RunningServer) => Promise<void>,
): Promise<void> {
  await withPrimary([], async (c, server) => {
    await before(c);
    const redis = await startRedis(['--replicaof', '127.0.0.1', String(server.port)]);
    const r = await Connection.open('127.0.0.1', redis.port);
    try {
      await until(async () => (await infoField(r, 'master_link_status')) === 'up', 'the replica to sync', 20_000, { detail: redis.output });
      await online(c, r, redis, server);
    } finally {
      await r.close();
      await redis.stop();
    }
  });
}

describe('step 06: replication to a real redis-server', { skip: HAVE_REDIS ? false : NO_REDIS }, () => {
  it('a redis-server --replicaof our primary holds exactly our keys and values after redis-benchmark and other writes', BOUNDED, async () => {
    await withRedisReplica(async (c) => {
      await c.send('SET', 'gone', 'x');
      await c.send('FLUSHDB'); // reaches the stream as its DELs
      await testerLikeWrites(c, 'before'); // these reach the replica in the RDB
    }, async (c, r, redis, primary) => {
      // Its log comes through a pipe, our INFO through a socket: either may be read first.
      await until(() => /MASTER <-> REPLICA sync: Finished with success/.test(redis.output()), "redis-server's log to say the sync succeeded",
        10_000, { detail: redis.output });
      // Then writes while it is online: redis-benchmark's SETs and ours.
      const bench = spawnSync('redis-benchmark', ['-p', String(primary.port), '-t', 'set', '-n', '20000', '-r', '3000', '-c', '20', '-q'],
        { encoding: 'utf8', timeout: 60_000 });
      assert.equal(bench.status, 0, bench.stderr);
      await testerLikeWrites(c, 'after');
      assert.equal(describeReply(await c.send('WAIT', '1', '10000')), '(integer) 1', 'the replica acknowledged every write');
      const ours = await scanAll(c);
      assert.ok(ours.size > 3000, `the primary holds ${ours.size} keys`);
      assert.deepEqual(await scanAll(r), ours);
      assert.match(await infoField(c, 'slave0') ?? '', /^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
      assert.equal(await infoField(c, 'connected_slaves'), '1');
      assert.equal((await infoField(c, 'master_replid'))?.length, 40);
      assert.equal(await infoField(r, 'master_repl_offset'), await infoField(c, 'master_repl_offset'));
      const role = describeReply(await c.send('ROLE'));
      assert.match(role, /^\["master", \(integer\) \d+, \[\["127\.0\.0\.1", "\d+", "\d+"\]\]\]$/);
    });
  });

  it('lists and expiry times reach a redis-server replica, in the RDB and in the stream: LRANGE, TTL and GET agree', BOUNDED, async () => {
    await withRedisReplica((c) => expiryAndListWrites(c, 'before'), async (c, r) => { // 'before': in the RDB
      await expiryAndListWrites(c, 'after'); // in the stream
      assert.equal(describeReply(await c.send('WAIT', '1', '10000')), '(integer) 1', 'the replica acknowledged every write');
      for (const prefix of ['before', 'after']) {
        assert.deepEqual(await expiryAndListView(c, prefix), expiryAndListExpected(prefix), `the primary, ${prefix}`);
        assert.deepEqual(await expiryAndListView(r, prefix), expiryAndListExpected(prefix), `the replica, ${prefix}`);
      }
    });
  });

  it('a key that expires by itself (active expiry) reaches the replica as DEL, and every write after it follows', BOUNDED, async () => {
    await withRedisReplica(async () => {}, async (c, r) => {
      await c.send('SET', 'x', '1', 'PX', '300');
      await untilActiveExpiry(c);
      await c.send('SET', 'y', '2');
      for (let i = 0; i < 20; i++) await c.send('SET', `z:${i}`, String(i));
      await until(async () => describeReply(await r.send('GET', 'y')) === '"2"', 'the replica to get SET y 2 after the expiry', 10_000,
        { detail: () => 'the stream stalled at the expired key\'s DEL' });
      await until(async () => describeReply(await r.send('DBSIZE')) === '(integer) 21', 'the DEL of x and the 21 SETs on the replica', 10_000);
      assert.equal(await infoField(c, 'repl_stream_holding'), '0', 'no write held back');
      assert.equal(describeReply(await c.send('WAIT', '1', '10000')), '(integer) 1', 'the replica acknowledged every write');
      assert.deepEqual(await scanAll(r), await scanAll(c));
    });
  });

  it('redis-cli --replica prints our write stream', BOUNDED, async () => {
    const primary = await startPrimary();
    const c = await Connection.open(primary.host, primary.port);
    const cli = spawn('redis-cli', ['-p', String(primary.port), '--replica'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    cli.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    try {
      await until(() => output.includes('SYNC done'), 'redis-cli to sync', 20_000, { detail: () => output });
      await c.send('SET', 'hello', 'world');
      await c.send('DEL', 'hello');
      await c.send('MULTI');
      await c.send('INCR', 'n');
      await c.send('EXEC');
      await until(() => output.includes('"EXEC"'), 'the stream in redis-cli', 20_000, { detail: () => output });
      const lines = output.split('\n').filter((line) => line.startsWith('"') && line !== '"PING"');
      assert.deepEqual(lines, ['"SET","hello","world","KEEPTTL"', '"DEL","hello"', '"MULTI"', '"SET","n","1","KEEPTTL"', '"EXEC"']);
    } finally {
      cli.kill('SIGKILL');
      await c.close();
      await primary.stop();
    }
  });
});

describe('step 06: replication protocol (a hand-made replica)', () => {
  it('full resync: +FULLRESYNC with a 40-character id, an RDB of the store, then the stream with its offset', BOUNDED, async () => {
    await withPrimary([], async (c, primary) => {
    await c.send('SET', 'a', '1');
    const replica = await RawReplica.connect(primary.port);
    const sync = await replica.fullResync();
    assert.deepEqual(decodeRdb(sync.rdb).entries.map(({ key, value }) => `${key}=${String(value)}`), ['a=1']);
    assert.equal(sync.offset, Number(await infoField(c, 'master_repl_offset')));
    await c.send('SET', 'b', '2');
    await until(() => sync.stream().includes('b\r\n$1\r\n2\r\n$7\r\nKEEPTTL\r\n'), 'SET b 2 in the stream');
    assert.equal(sync.stream(), '*4\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n$7\r\nKEEPTTL\r\n');
    assert.equal(Number(await infoField(c, 'master_repl_offset')), sync.offset + sync.stream().length);
    replica.socket.destroy();
    });
  });

  it("active expiry's DELs are in the stream, in order, and a replica that syncs after them gets its full resync", BOUNDED, async () => {
    await withPrimary([], async (c, primary) => {
    const replica = await RawReplica.connect(primary.port);
    const sync = await replica.fullResync();
    await c.send('SET', 'x', '1', 'PX', '300');
    await untilActiveExpiry(c);
    await c.send('SET', 'y', '2');
    await until(() => sync.stream().includes('$1\r\ny\r\n$1\r\n2\r\n$7\r\nKEEPTTL\r\n'), 'SET y 2 in the stream, after the expired key', 10_000,
      { detail: () => `stream: ${JSON.stringify(sync.stream())}\n${primary.log()}` });
    const commands = sync.stream().replace(/\*1\r\n\$4\r\nPING\r\n/g, '')
      .replace(/\$13\r\n\d{13}\r\n/, '$13\r\n<ms>\r\n');
    assert.equal(commands, '*4\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n$7\r\nKEEPTTL\r\n' +
      '*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nx\r\n$13\r\n<ms>\r\n' +
      '*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n' +
      '*4\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n2\r\n$7\r\nKEEPTTL\r\n');
    assert.equal(await infoField(c, 'repl_stream_holding'), '0');
    const late = await RawReplica.connect(primary.port);
    const lateSync = await late.fullResync();
    assert.deepEqual(decodeRdb(lateSync.rdb).entries.map(({ key, value }) => `${key}=${String(value)}`), ['y=2']);
    replica.socket.destroy();
    late.socket.destroy();
    });
  });

  it('partial resync: PSYNC with the id and the next offset gets +CONTINUE and exactly the missed writes', BOUNDED, async () => {
    await withPrimary([], async (c, primary) => {
    const first = await RawReplica.connect(primary.port);
    const sync = await first.fullResync();
    await c.send('SET', 'x', '1');
    await until(() => sync.stream().length > 0, 'the first write');
    const offset = sync.offset + sync.stream().length;
    first.socket.destroy(); // the link is cut
    await until(async () => (await infoField(c, 'connected_slaves')) === '0', 'the primary to notice');
    await c.send('SET', 'y', '2'); // missed while disconnected
    const again = await RawReplica.connect(primary.port, [sync.replid, String(offset + 1)]);
    await until(() => again.text.includes('y\r\n$1\r\n2\r\n$7\r\nKEEPTTL\r\n'), 'the missed write', 20_000, { detail: () => again.text });
    assert.equal(again.text, `+OK\r\n+CONTINUE ${sync.replid}\r\n*4\r\n$3\r\nSET\r\n$1\r\ny\r\n$1\r\n2\r\n$7\r\nKEEPTTL\r\n`);
    again.socket.destroy();
    // An unknown id, or an offset the backlog no longer holds: a full resync.
    const other = await RawReplica.connect(primary.port, ['f'.repeat(40), '1']);
    await other.fullResync();
    other.socket.destroy();
    });
  });

  it('WAIT counts the replicas that acknowledged, and times out with a shortfall (not a rollback)', BOUNDED, async () => {
    await withPrimary([], async (c, primary) => {
    assert.equal(describeReply(await c.send('WAIT', '0', '0')), '(integer) 0');
    assert.equal(describeReply(await c.send('WAIT', '1', '100')), '(integer) 0', 'no replica at all: 0 at once');
    const replica = await RawReplica.connect(primary.port);
    const sync = await replica.fullResync();
    await c.send('SET', 'k', 'v');
    const started = Date.now();
    assert.equal(describeReply(await c.send('WAIT', '1', '300')), '(integer) 0', 'a replica that does not ACK');
    assert.ok(Date.now() - started >= 290, 'WAIT waited its timeout');
    assert.equal(describeReply(await c.send('GET', 'k')), '"v"', 'the write stays');
    assert.match(sync.stream(), /REPLCONF\r\n\$6\r\nGETACK/, 'WAIT asked the replica for its offset');
    // Now the replica acknowledges everything it received: WAIT counts it.
    const waiting = c.send('WAIT', '1', '0');
    await until(() => sync.stream().split('GETACK').length >= 3, 'a second GETACK');
    const received = sync.offset + sync.stream().length;
    replica.socket.write(`*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$${String(received).length}\r\n${received}\r\n`);
    assert.equal(describeReply(await waiting), '(integer) 1');
    replica.socket.destroy();
    });
  });

  it('a replica that never reads is cut off at the output limit; the primary goes on serving', BOUNDED, async () => {
    await withPrimary(['--replica-output-limit', '1mb'], async (c, primary) => {
    const replica = await RawReplica.connect(primary.port);
    await replica.fullResync();
    replica.socket.pause(); // reads nothing more: the kernel's buffers fill, then ours
    const value = Buffer.alloc(256 * 1024, 120);
    for (let i = 0; i < 200 && (await infoField(c, 'repl_replicas_cut_off')) === '0'; i++) {
      await c.send('SET', `big${i % 4}`, value);
    }
    assert.equal(await infoField(c, 'repl_replicas_cut_off'), '1');
    await until(async () => (await infoField(c, 'connected_slaves')) === '0', 'the link to close');
    assert.match(primary.log(), /past the output limit/);
    assert.equal(describeReply(await c.send('PING')), 'PONG');
    });
  });

  it('min-replicas-to-write: writes get -NOREPLICAS without a replica that acknowledged within min-replicas-max-lag', BOUNDED, async () => {
    await withPrimary(['--min-replicas-to-write', '1', '--min-replicas-max-lag', '1'], async (c, primary) => {
    assert.equal(describeReply(await c.send('SET', 'k', 'v')), 'NOREPLICAS Not enough good replicas to write.');
    assert.equal(describeReply(await c.send('GET', 'k')), '(nil)', 'reads are served');
    const replica = await RawReplica.connect(primary.port);
    await replica.fullResync();
    replica.socket.write('*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$1\r\n0\r\n');
    await until(async () => describeReply(await c.send('SET', 'k', 'v')) === 'OK', 'a write accepted with a good replica');
    // It stops acknowledging: after a second it no longer counts.
    let reply = '';
    await until(async () => (reply = describeReply(await c.send('SET', 'k', 'w'))) !== 'OK', 'writes refused again', 10_000);
    assert.equal(reply, 'NOREPLICAS Not enough good replicas to write.');
    replica.socket.destroy();
    });
  });

  it('bad bytes on the replication link close that link only', BOUNDED, async () => {
    await withPrimary([], async (c, primary) => {
    const replica = await RawReplica.connect(primary.port);
    await replica.fullResync();
    replica.socket.write('*2\r\n$x\r\n');
    await until(() => replica.closed, 'the primary to close the link');
    assert.match(primary.log(), /sent bad bytes/);
    assert.equal(describeReply(await c.send('SET', 'still', 'fine')), 'OK');
    });
  });
});
