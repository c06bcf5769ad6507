import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Connection } from '../../shared/client/connection.ts';
import { encodeCommand } from '../../shared/protocol/encode.ts';
import type { RunningServer } from './launch.ts';
import { ask } from './server-suites.ts';

// What every step answers as Redis does, for the clients nobody here wrote
// (node-redis, ioredis, redis-py): Redis's counters and keyspace commands,
// transactions, HELLO and RESP3. Called from commandSuite(), on its server.

export function redisCommandTests(step: string, server: () => RunningServer): void {
  describe(`step ${step}: Redis's commands, transactions and HELLO`, () => {
    let c: Connection;
    let other: Connection;
    before(async () => {
      c = await Connection.open(server().host, server().port);
      other = await Connection.open(server().host, server().port);
    });
    after(async () => {
      await c.close();
      await other.close();
    });

    it('INCRBY, DECR, DECRBY, INCRBYFLOAT count in 64 bits and refuse what Redis refuses', async () => {
      assert.equal(await ask(c, 'INCRBY', 'r:n', '5'), '(integer) 5');
      assert.equal(await ask(c, 'DECRBY', 'r:n', '7'), '(integer) -2');
      assert.equal(await ask(c, 'DECR', 'r:n'), '(integer) -3');
      assert.equal(await ask(c, 'INCRBY', 'r:n', 'x'), 'ERR value is not an integer or out of range');
      assert.equal(await ask(c, 'INCRBY', 'r:n', '01'), 'ERR value is not an integer or out of range');
      assert.equal(await ask(c, 'INCRBY', 'r:n'), "ERR wrong number of arguments for 'incrby' command");
      assert.equal(await ask(c, 'SET', 'r:big', '9223372036854775806'), 'OK');
      assert.equal(await ask(c, 'INCR', 'r:big'), '(integer) 9223372036854775807');
      assert.equal(await ask(c, 'INCR', 'r:big'), 'ERR increment or decrement would overflow');
      assert.equal(await ask(c, 'DECRBY', 'r:n', '-9223372036854775808'), 'ERR decrement would overflow'); // redis-server 7.0.15's words
      assert.equal(await ask(c, 'SET', 'r:f', '10.5'), 'OK');
      assert.equal(await ask(c, 'INCRBYFLOAT', 'r:f', '0.1'), '"10.6"');
      assert.equal(await ask(c, 'INCRBYFLOAT', 'r:f', 'abc'), 'ERR value is not a valid float');
      assert.equal(await ask(c, 'INCRBYFLOAT', 'r:f', '1e400'), 'ERR increment would produce NaN or Infinity');
    });

    it('MSET, MGET, EXISTS, TYPE, KEYS with glob patterns, DBSIZE', async () => {
      assert.equal(await ask(c, 'MSET', 'k:a1', '1', 'k:b2', '2', 'k:c3', '3'), 'OK');
      assert.equal(await ask(c, 'MSET', 'k:a1', '1', 'k:b2'), "ERR wrong number of arguments for 'mset' command");
      assert.equal(await ask(c, 'MGET', 'k:a1', 'k:none', 'k:c3'), '["1", (nil), "3"]');
      assert.equal(await ask(c, 'EXISTS', 'k:a1', 'k:a1', 'k:none'), '(integer) 2');
      assert.equal(await ask(c, 'TYPE', 'k:a1'), 'string');
      assert.equal(await ask(c, 'TYPE', 'k:none'), 'none');
      const keys = async (pattern: string) => {
        const reply = await c.send('KEYS', pattern);
        assert.equal(reply.type, 'array');
        return (reply.type === 'array' ? reply.value ?? [] : []).map((r) => (r.type === 'bulk' ? String(r.value) : '')).sort();
      };
      assert.deepEqual(await keys('k:*'), ['k:a1', 'k:b2', 'k:c3']);
      assert.deepEqual(await keys('k:?1'), ['k:a1']);
      assert.deepEqual(await keys('k:[ab]*'), ['k:a1', 'k:b2']);
      assert.deepEqual(await keys('k:[^ab]*'), ['k:c3']);
      assert.deepEqual(await keys('k:[a-b]2'), ['k:b2']);
      assert.deepEqual(await keys('k\\:a1'), ['k:a1']);
      assert.equal(await ask(c, 'DBSIZE', 'x'), "ERR wrong number of arguments for 'dbsize' command");
    });

    it('SCAN returns every key once, page by page, and refuses a bad cursor', async () => {
      const names = Array.from({ length: 50 }, (_, i) => `scan:${i}`);
      await c.pipeline(names.map((name) => ['SET', name, 'v']));
      const seen: string[] = [];
      let cursor = '0';
      let pages = 0;
      do {
        const reply = await c.send('SCAN', cursor, 'MATCH', 'scan:*', 'COUNT', '7');
        assert.ok(reply.type === 'array' && reply.value?.length === 2, 'SCAN replies [cursor, keys]');
        const [next, page] = reply.value!;
        cursor = next!.type === 'bulk' ? String(next!.value) : 'bad';
        if (page!.type === 'array') seen.push(...(page!.value ?? []).map((r) => (r.type === 'bulk' ? String(r.value) : '')));
        pages++;
        assert.ok(pages < 100, 'the scan ends');
      } while (cursor !== '0');
      assert.ok(pages > 1, 'COUNT 7 makes several pages');
      assert.deepEqual(seen.sort(), [...names].sort());
      assert.equal(await ask(c, 'SCAN', 'abc'), 'ERR invalid cursor');
      assert.equal(await ask(c, 'SCAN', '0', 'COUNT', '0'), 'ERR syntax error');
      assert.equal(await ask(c, 'SCAN', '0', 'MATCH'), 'ERR syntax error');
    });

    it('MULTI queues, EXEC runs all and replies with every reply, DISCARD forgets', async () => {
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'SET', 'tx:a', '1'), 'QUEUED');
      assert.equal(await ask(c, 'INCRBY', 'tx:a', '2'), 'QUEUED');
      assert.equal(await ask(c, 'INCR', 'tx:word-or-not'), 'QUEUED');
      assert.equal(await ask(other, 'GET', 'tx:a'), '(nil)', 'nothing runs before EXEC');
      assert.equal(await ask(c, 'EXEC'), '[OK, (integer) 3, (integer) 1]');
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'SET', 'tx:a', 'gone'), 'QUEUED');
      assert.equal(await ask(c, 'DISCARD'), 'OK');
      assert.equal(await ask(c, 'GET', 'tx:a'), '"3"');
      assert.equal(await ask(c, 'EXEC'), 'ERR EXEC without MULTI');
      assert.equal(await ask(c, 'DISCARD'), 'ERR DISCARD without MULTI');
    });

    it('a command that cannot be queued makes EXEC abort, and nothing of it runs', async () => {
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'SET', 'tx:half', '1'), 'QUEUED');
      assert.match(await ask(c, 'NOSUCHCOMMAND'), /^INVALID_COMMAND unknown command/);
      assert.equal(await ask(c, 'GET'), 'INVALID_COMMAND wrong number of arguments for \'GET\' (usage: GET key)');
      assert.equal(await ask(c, 'EXEC'), 'EXECABORT Transaction discarded because of previous errors.');
      assert.equal(await ask(c, 'GET', 'tx:half'), '(nil)', 'the queued SET did not run');
    });

    it('MULTI inside MULTI and WATCH inside MULTI are errors that keep the transaction', async () => {
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'MULTI'), 'ERR MULTI calls can not be nested');
      assert.equal(await ask(c, 'WATCH', 'tx:w'), 'ERR WATCH inside MULTI is not allowed');
      assert.equal(await ask(c, 'SET', 'tx:kept', 'yes'), 'QUEUED');
      assert.equal(await ask(c, 'EXEC'), '[OK]');
    });

    it('WATCH: EXEC runs nothing (null) when another client wrote a watched key, and runs otherwise', async () => {
      assert.equal(await ask(c, 'SET', 'tx:w', '10'), 'OK');
      assert.equal(await ask(c, 'WATCH', 'tx:w'), 'OK');
      assert.equal(await ask(other, 'SET', 'tx:w', '10'), 'OK', 'the same value: still a write, as in Redis');
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'SET', 'tx:w', '11'), 'QUEUED');
      assert.equal(await ask(c, 'EXEC'), '(nil array)');
      assert.equal(await ask(c, 'GET', 'tx:w'), '"10"');
      // EXEC unwatched it: the next transaction runs.
      assert.equal(await ask(c, 'WATCH', 'tx:w'), 'OK');
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'INCR', 'tx:w'), 'QUEUED');
      assert.equal(await ask(c, 'EXEC'), '[(integer) 11]');
      // UNWATCH forgets it.
      assert.equal(await ask(c, 'WATCH', 'tx:w'), 'OK');
      assert.equal(await ask(other, 'DEL', 'tx:w'), '(integer) 1');
      assert.equal(await ask(c, 'UNWATCH'), 'OK');
      assert.equal(await ask(c, 'MULTI'), 'OK');
      assert.equal(await ask(c, 'INCR', 'tx:w'), 'QUEUED');
      assert.equal(await ask(c, 'EXEC'), '[(integer) 1]');
    });

    it('HELLO answers who the server is; HELLO 3 switches this connection to RESP3', async () => {
      const id = (await ask(c, 'CLIENT', 'ID')).replace('(integer) ', '');
      assert.equal(await ask(c, 'HELLO', '2'), '["server", "redis", "version", "7.0.15", "proto", (integer) 2, ' +
        `"id", (integer) ${id}, "mode", "standalone", "role", "master", "modules", []]`);
      assert.equal(await ask(c, 'HELLO', '4'), 'NOPROTO unsupported protocol version');
      assert.equal(await ask(c, 'HELLO', 'x'), 'ERR Protocol version is not an integer or out of range');
      assert.equal(await ask(c, 'HELLO', '2', 'AUTH', 'bob', 'pw'), 'WRONGPASS invalid username-password pair or user is disabled.');
      assert.equal(await ask(c, 'HELLO', '2', 'FOO'), "ERR Syntax error in HELLO option 'FOO'");
      assert.match(await ask(c, 'HELLO', '2', 'AUTH', 'default', 'any', 'SETNAME', 'tester'), /^\["server"/);
      assert.equal(await ask(c, 'CLIENT', 'GETNAME'), '"tester"');
      assert.equal(await ask(c, 'CLIENT', 'SETNAME', 'a b'), 'ERR Client names cannot contain spaces, newlines or special characters.');
      assert.equal(await ask(c, 'CLIENT', 'SETINFO', 'LIB-NAME', 'course'), 'OK');
      assert.match(await ask(c, 'CLIENT', 'INFO'), /^"id=\d+ addr=\S+ laddr=\S+ .*name=tester .*cmd=client\|info .*lib-name=course .*resp=2\\n"$/);
      assert.match(await ask(c, 'CLIENT', 'LIST'), /name=tester/);
      assert.equal(await ask(c, 'CLIENT', 'FROB'), "ERR unknown subcommand 'FROB'. Try CLIENT HELP.");
      assert.equal(await ask(c, 'SELECT', '0'), 'OK');
      assert.equal(await ask(c, 'SELECT', '1'), 'ERR DB index is out of range');

      // RESP3, byte for byte: the map, the null, the verbatim string.
      const bytes = await exchange(server(), [['HELLO', '3'], ['GET', 'hello:none'], ['CONFIG', 'GET', 'save'], ['CLIENT', 'INFO'],
        ['MULTI'], ['GET', 'x'], ['WATCH', 'x'], ['EXEC']], '*1\r\n_\r\n');
      assert.match(bytes, /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n\$7\r\nversion\r\n\$6\r\n7\.0\.15\r\n\$5\r\nproto\r\n:3\r\n\$2\r\nid\r\n:\d+\r\n/);
      assert.match(bytes, /\$7\r\nmodules\r\n\*0\r\n_\r\n%1\r\n\$4\r\nsave\r\n\$0\r\n\r\n=\d+\r\ntxt:id=/);
      assert.match(bytes, /resp=3\n\r\n\+OK\r\n\+QUEUED\r\n-ERR WATCH inside MULTI is not allowed\r\n\*1\r\n_\r\n$/);
    });
  });
}

/**
 * Sends requests on a raw socket and returns every byte that came back once
 * the answer ends with `last` (or fails after 5 s): for checking bytes the
 * course's own client would parse away.
 */
function exchange(server: RunningServer, requests: string[][], last: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, server.host);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 5 s; received ${JSON.stringify(received)}`));
    }, 5000);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.endsWith(last)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.write(Buffer.concat(requests.map((request) => encodeCommand(request))));
  });
}
