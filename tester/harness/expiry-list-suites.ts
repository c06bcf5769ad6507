import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import type { RunningServer } from './launch.ts';
import { BOUNDED, ask, withServer } from './server-suites.ts';
import { BOUNDED_WITH_RESTARTS, start, tempDataDir } from './persistence-suites.ts';
import { infoField, untilInfo } from './info.ts';
import { until } from './until.ts';

// Expiry and lists (issue 13), for the steps that have them (01 and 06):
// Redis's replies and errors, lazy and active expiry, lists and blocking pops
// served by another client. Waiting is always for a condition with a
// deadline (the server is asked again until it holds), never a sleep.

/** Asks `request` until the reply is `expected`; fails with the last reply after `limitMs`. */
export async function untilReply(c: Connection, request: string[], expected: string, limitMs = 5000): Promise<void> {
  let last = '';
  await until(async () => (last = await ask(c, ...request)) === expected, `${request.join(' ')} answers ${expected}`,
    limitMs, { detail: () => `it still answered ${last}` });
}

export function expiryAndListSuite(step: string, args: string[] = []): void {
  describe(`step ${step}: expiry and lists`, () => {
    const server = withServer(step, args);
    let c: Connection;
    let other: Connection;
    before(async () => {
      c = await Connection.open(server().host, server().port);
      other = await Connection.open(server().host, server().port);
    }, BOUNDED);
    after(async () => {
      await c.close();
      await other.close();
    }, BOUNDED);

    it('TTL and PTTL: -2 absent, -1 no expiry, else the time left; PERSIST, EXPIRE NX/XX/GT/LT', BOUNDED, async () => {
      assert.equal(await ask(c, 'TTL', 'e:none'), '(integer) -2');
      assert.equal(await ask(c, 'SET', 'e:k', 'v'), 'OK');
      assert.equal(await ask(c, 'TTL', 'e:k'), '(integer) -1');
      assert.equal(await ask(c, 'EXPIRE', 'e:k', '100'), '(integer) 1');
      assert.equal(await ask(c, 'TTL', 'e:k'), '(integer) 100');
      const pttl = Number((await ask(c, 'PTTL', 'e:k')).replace('(integer) ', ''));
      assert.ok(pttl > 95_000 && pttl <= 100_000, `PTTL ${pttl}`);
      assert.equal(await ask(c, 'EXPIRE', 'e:k', '50', 'NX'), '(integer) 0');
      assert.equal(await ask(c, 'EXPIRE', 'e:k', '50', 'GT'), '(integer) 0');
      assert.equal(await ask(c, 'EXPIRE', 'e:k', '50', 'LT'), '(integer) 1');
      assert.equal(await ask(c, 'TTL', 'e:k'), '(integer) 50');
      assert.equal(await ask(c, 'PERSIST', 'e:k'), '(integer) 1');
      assert.equal(await ask(c, 'PERSIST', 'e:k'), '(integer) 0');
      assert.equal(await ask(c, 'EXPIRE', 'e:k', '50', 'XX'), '(integer) 0');
      assert.equal(await ask(c, 'EXPIRE', 'e:none', '10'), '(integer) 0');
      const at = Math.floor(Date.now() / 1000) + 1000;
      assert.equal(await ask(c, 'EXPIREAT', 'e:k', String(at)), '(integer) 1');
      assert.equal(await ask(c, 'EXPIRETIME', 'e:k'), `(integer) ${at}`);
      assert.equal(await ask(c, 'PEXPIREAT', 'e:k', String(at * 1000 + 5)), '(integer) 1');
      assert.equal(await ask(c, 'PEXPIRETIME', 'e:k'), `(integer) ${at * 1000 + 5}`);
      assert.equal(await ask(c, 'EXPIRE', 'e:k', 'soon'), 'ERR value is not an integer or out of range');
      assert.equal(await ask(c, 'EXPIRE', 'e:k', '9223372036854775807'), "ERR invalid expire time in 'expire' command");
      assert.equal(await ask(c, 'EXPIRE', 'e:k'), "ERR wrong number of arguments for 'expire' command");
      // A time already past deletes the key at once.
      assert.equal(await ask(c, 'PEXPIRE', 'e:k', '-1'), '(integer) 1');
      assert.equal(await ask(c, 'EXISTS', 'e:k'), '(integer) 0');
    });

    it('SET EX/PX/EXAT/PXAT/NX/XX/GET/KEEPTTL with Redis\'s replies and errors', BOUNDED, async () => {
      assert.equal(await ask(c, 'SET', 's:k', '1', 'EX', '100'), 'OK');
      assert.equal(await ask(c, 'TTL', 's:k'), '(integer) 100');
      assert.equal(await ask(c, 'SET', 's:k', '2', 'KEEPTTL'), 'OK');
      assert.equal(await ask(c, 'TTL', 's:k'), '(integer) 100');
      assert.equal(await ask(c, 'SET', 's:k', '3', 'GET'), '"2"');
      assert.equal(await ask(c, 'TTL', 's:k'), '(integer) -1', 'a plain SET forgets the old time');
      assert.equal(await ask(c, 'SET', 's:k', '4', 'NX', 'GET'), '"3"');
      assert.equal(await ask(c, 'SET', 's:new', '1', 'XX', 'GET'), '(nil)');
      assert.equal(await ask(c, 'SET', 's:k', '5', 'PX', '100000', 'XX'), 'OK');
      assert.ok(Number((await ask(c, 'PTTL', 's:k')).slice(10)) > 90_000);
      assert.equal(await ask(c, 'SET', 's:k', '6', 'EXAT', String(Math.floor(Date.now() / 1000) + 200)), 'OK');
      assert.match(await ask(c, 'TTL', 's:k'), /^\(integer\) (199|200)$/);
      assert.equal(await ask(c, 'SET', 's:k', '6', 'PXAT', String(Date.now() + 300_000)), 'OK');
      assert.equal(await ask(c, 'SET', 's:k', '1', 'EX', '0'), "ERR invalid expire time in 'set' command");
      assert.equal(await ask(c, 'SET', 's:k', '1', 'PX', '-5'), "ERR invalid expire time in 'set' command");
      assert.equal(await ask(c, 'SET', 's:k', '1', 'EX', 'ten'), 'ERR value is not an integer or out of range');
      assert.equal(await ask(c, 'SET', 's:k', '1', 'EX', '10', 'PX', '10'), 'ERR syntax error');
      assert.equal(await ask(c, 'SET', 's:k', '1', 'EX', '10', 'KEEPTTL'), 'ERR syntax error');
      assert.equal(await ask(c, 'SET', 's:k', '1', 'NX', 'XX'), 'ERR syntax error');
      assert.equal(await ask(c, 'GET', 's:k'), '"6"', 'a refused SET changes nothing');
    });

    it('lazy expiry: an expired key is never returned by GET, EXISTS, TYPE, TTL, KEYS, SCAN, DUMP or MGET', BOUNDED, async () => {
      // A long-lived key beside it, so the keyspace is not empty.
      assert.equal(await ask(c, 'SET', 'lazy:stay', 'x'), 'OK');
      assert.equal(await ask(c, 'SET', 'lazy:k', 'v', 'PX', '30'), 'OK');
      await untilReply(c, ['GET', 'lazy:k'], '(nil)');
      // From the first nil on, no read path may show it again.
      assert.equal(await ask(c, 'EXISTS', 'lazy:k'), '(integer) 0');
      assert.equal(await ask(c, 'TYPE', 'lazy:k'), 'none');
      assert.equal(await ask(c, 'TTL', 'lazy:k'), '(integer) -2');
      assert.equal(await ask(c, 'MGET', 'lazy:k', 'lazy:stay'), '[(nil), "x"]');
      assert.doesNotMatch(await ask(c, 'KEYS', 'lazy:*'), /lazy:k/);
      assert.doesNotMatch(await ask(c, 'SCAN', '0', 'COUNT', '1000'), /lazy:k/);
      assert.doesNotMatch(await ask(c, 'DUMP'), /lazy:k/);
      // A write to it starts afresh (INCR from 0, no old time).
      assert.equal(await ask(c, 'SET', 'lazy:n', '41', 'PX', '30'), 'OK');
      await untilReply(c, ['EXISTS', 'lazy:n'], '(integer) 0');
      assert.equal(await ask(c, 'INCR', 'lazy:n'), '(integer) 1');
      assert.equal(await ask(c, 'TTL', 'lazy:n'), '(integer) -1');
    });

    it('active expiry: keys nobody touches are reclaimed (DBSIZE and INFO count them)', BOUNDED, async () => {
      assert.equal(await ask(c, 'FLUSHDB'), 'OK');
      const args = [];
      for (let i = 0; i < 200; i++) args.push(`act:${i}`, String(i));
      assert.equal(await ask(c, 'MSET', ...args), 'OK');
      for (let i = 0; i < 200; i++) assert.equal(await ask(c, 'PEXPIRE', `act:${i}`, '20'), '(integer) 1');
      assert.equal(await ask(c, 'SET', 'act:stay', 'x', 'EX', '1000'), 'OK');
      // DBSIZE counts what is stored, expired or not (as Redis): it falls only
      // when the active cycle has reclaimed the keys.
      await untilReply(c, ['DBSIZE'], '(integer) 1', 10_000);
      // avg_ttl is a sampled estimate that moves between two reads of INFO, so
      // only its shape is checked; the counts are exact.
      assert.match((await infoField(c, 'db0')) ?? '', /^keys=1,expires=1,avg_ttl=\d+$/);
      assert.ok(Number(await infoField(c, 'expired_keys')) >= 200);
    });

    it('a transaction sees expiry as Redis does: SET PX and TTL queued, BLPOP inside MULTI does not block', BOUNDED, async () => {
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'SET', 'tx:e', '1', 'EX', '100'), 'QUEUED');
      assert.equal(await ask(c, 'TTL', 'tx:e'), 'QUEUED');
      assert.equal(await ask(c, 'BLPOP', 'tx:empty', '0'), 'QUEUED');
      assert.equal(await ask(c, 'EXEC'), '[OK, (integer) 100, (nil array)]');
      // WATCH sees an EXPIRE by another client as a write.
      assert.equal(await ask(c, 'WATCH', 'tx:e'), 'OK');
      assert.equal(await ask(other, 'EXPIRE', 'tx:e', '500'), '(integer) 1');
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'GET', 'tx:e'), 'QUEUED');
      assert.equal(await ask(c, 'EXEC'), '(nil array)');
    });

    it('lists: LPUSH, RPUSH, LRANGE, LLEN, LPOP/RPOP with count, TYPE list, WRONGTYPE both ways', BOUNDED, async () => {
      assert.equal(await ask(c, 'RPUSH', 'l:a', 'b', 'c'), '(integer) 2');
      assert.equal(await ask(c, 'LPUSH', 'l:a', 'a', 'z'), '(integer) 4');
      assert.equal(await ask(c, 'LRANGE', 'l:a', '0', '-1'), '["z", "a", "b", "c"]');
      assert.equal(await ask(c, 'LRANGE', 'l:a', '-2', '100'), '["b", "c"]');
      assert.equal(await ask(c, 'LRANGE', 'l:a', '3', '1'), '[]');
      assert.equal(await ask(c, 'LLEN', 'l:a'), '(integer) 4');
      assert.equal(await ask(c, 'TYPE', 'l:a'), 'list');
      assert.equal(await ask(c, 'EXISTS', 'l:a'), '(integer) 1');
      assert.equal(await ask(c, 'LPOP', 'l:a'), '"z"');
      assert.equal(await ask(c, 'RPOP', 'l:a', '2'), '["c", "b"]');
      assert.equal(await ask(c, 'LPOP', 'l:a', '5'), '["a"]');
      assert.equal(await ask(c, 'EXISTS', 'l:a'), '(integer) 0', 'an emptied list is deleted');
      assert.equal(await ask(c, 'LPOP', 'l:a'), '(nil)');
      assert.equal(await ask(c, 'LPOP', 'l:a', '2'), '(nil array)');
      assert.equal(await ask(c, 'LPOP', 'l:a', '-1'), 'ERR value is out of range, must be positive');
      assert.equal(await ask(c, 'LLEN', 'l:a'), '(integer) 0');
      const wrong = 'WRONGTYPE Operation against a key holding the wrong kind of value';
      assert.equal(await ask(c, 'SET', 'l:s', 'text'), 'OK');
      assert.equal(await ask(c, 'LPUSH', 'l:s', 'x'), wrong);
      assert.equal(await ask(c, 'LRANGE', 'l:s', '0', '-1'), wrong);
      assert.equal(await ask(c, 'BLPOP', 'l:s', '1'), wrong);
      assert.equal(await ask(c, 'RPUSH', 'l:l', 'x'), '(integer) 1');
      assert.equal(await ask(c, 'GET', 'l:l'), wrong);
      assert.equal(await ask(c, 'INCR', 'l:l'), wrong);
      assert.equal(await ask(c, 'SET', 'l:l', 'v', 'GET'), wrong);
      assert.equal(await ask(c, 'EXPIRE', 'l:l', '100'), '(integer) 1');
      assert.equal(await ask(c, 'TTL', 'l:l'), '(integer) 100');
      assert.equal(await ask(c, 'SET', 'l:l', 'now a string'), 'OK');
      assert.equal(await ask(c, 'TYPE', 'l:l'), 'string');
      assert.equal(await ask(c, 'LPUSH', 'l:e', 'x'), '(integer) 1');
      assert.equal(await ask(c, 'PEXPIRE', 'l:e', '20'), '(integer) 1');
      await untilReply(c, ['LLEN', 'l:e'], '(integer) 0');
      assert.equal(await ask(c, 'RPUSH', 'l:e', 'fresh'), '(integer) 1', 'an expired list starts again empty');
      assert.equal(await ask(c, 'BLPOP', 'l:e', 'x'), 'ERR timeout is not a float or out of range');
      assert.equal(await ask(c, 'BLPOP', 'l:e', '-1'), 'ERR timeout is negative');
    });

    it('BLPOP waits for a push by another client; waiters are served in arrival order, one element each', BOUNDED, async () => {
      const first = await Connection.open(server().host, server().port);
      const second = await Connection.open(server().host, server().port);
      try {
        const firstReply = first.send('BLPOP', 'q:1', 'q:2', '0');
        const blocked = (n: number) => untilInfo(c, 'blocked_clients', String(n));
        await blocked(1);
        const secondReply = second.send('BRPOP', 'q:2', '0');
        await blocked(2);
        // One element: exactly one waiter (the first to come) gets it.
        assert.equal(await ask(other, 'RPUSH', 'q:2', 'one'), '(integer) 1');
        assert.equal(describeReply(await firstReply), '["q:2", "one"]');
        await blocked(1);
        assert.equal(await ask(other, 'LLEN', 'q:2'), '(integer) 0');
        assert.equal(await ask(other, 'RPUSH', 'q:2', 'two', 'three'), '(integer) 2');
        assert.equal(describeReply(await secondReply), '["q:2", "three"]', 'BRPOP takes from the tail');
        assert.equal(await ask(other, 'LRANGE', 'q:2', '0', '-1'), '["two"]');
        // The blocked connection serves its next requests afterwards, in order.
        const after = first.send('BLPOP', 'q:2', '0');
        const ping = first.send('PING');
        assert.equal(describeReply(await after), '["q:2", "two"]');
        assert.equal(describeReply(await ping), 'PONG');
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('BLPOP times out with a null array; a client that disconnects while blocked is forgotten', BOUNDED, async () => {
      const started = Date.now();
      assert.equal(await ask(c, 'BLPOP', 'q:never', '0.1'), '(nil array)');
      assert.ok(Date.now() - started >= 90, 'it waited its timeout');
      const gone = await Connection.open(server().host, server().port);
      void gone.send('BLPOP', 'q:gone', '0').catch(() => {});
      await untilInfo(c, 'blocked_clients', '1');
      await gone.close();
      await untilInfo(c, 'blocked_clients', '0'); // the waiter of a closed connection is forgotten
      // Its element is not lost to the vanished client.
      assert.equal(await ask(other, 'RPUSH', 'q:gone', 'kept'), '(integer) 1');
      assert.equal(await ask(other, 'LRANGE', 'q:gone', '0', '-1'), '["kept"]');
    });
  });
}

/** Expiry times and lists are logged and come back at restart (steps with persistence). */
export function expiryAndListReplayTest(step: string, args: string[] = []): void {
  it('expiry times and lists survive a restart; a key that expires while the server is down stays gone', BOUNDED_WITH_RESTARTS, async () => {
    const dataDir = tempDataDir();
    let server: RunningServer | undefined;
    try {
      server = await start(step, dataDir, args);
      const c = await Connection.open(server.host, server.port);
      const say = async (...request: string[]) => describeReply(await c.send(...request));
      assert.equal(await say('SET', 'r:long', 'v', 'EX', '1000'), 'OK');
      assert.equal(await say('SET', 'r:short', 'v', 'PX', '300'), 'OK');
      assert.equal(await say('SET', 'r:kept', 'v', 'EX', '1000'), 'OK');
      assert.equal(await say('PERSIST', 'r:kept'), '(integer) 1');
      assert.equal(await say('RPUSH', 'r:list', 'a', 'b', 'c', 'd'), '(integer) 4');
      assert.equal(await say('LPOP', 'r:list'), '"a"');
      assert.equal(await say('LPUSH', 'r:list', 'z'), '(integer) 4');
      assert.equal(await say('RPOP', 'r:list'), '"d"');
      assert.equal(await say('RPUSH', 'r:gone', 'x'), '(integer) 1');
      assert.equal(await say('LPOP', 'r:gone'), '"x"');
      await c.close();
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });

      server = await start(step, dataDir, args);
      const d = await Connection.open(server.host, server.port);
      const again = async (...request: string[]) => describeReply(await d.send(...request));
      assert.match(await again('TTL', 'r:long'), /^\(integer\) (99\d|1000)$/);
      assert.equal(await again('TTL', 'r:kept'), '(integer) -1');
      assert.equal(await again('LRANGE', 'r:list', '0', '-1'), '["z", "b", "c"]');
      assert.equal(await again('TYPE', 'r:list'), 'list');
      assert.equal(await again('EXISTS', 'r:gone'), '(integer) 0');
      await untilReply(d, ['EXISTS', 'r:short'], '(integer) 0');
      await d.close();
      assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    } finally {
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
