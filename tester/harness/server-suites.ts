import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply, type Reply } from '../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from './launch.ts';
import { TEST_TIMEOUT_MS } from './test-runner.ts';
import { redisCommandTests } from './redis-suites.ts';

// Test suites that every step must pass: the commands mean the same thing in
// every step, and no client can hurt the others. A step's test file calls
//   commandSuite('03'); hostileInputSuite('03');
// with the server options it needs.
//
// Every test and hook is bounded: against a broken server (one that never
// answers, or never closes), the test that waits fails by name, it does not hang.
export const BOUNDED = { timeout: TEST_TIMEOUT_MS };

/** The reply in the one-line form people read: `OK`, `(nil)`, `NOT_FOUND ...`. */
export async function ask(connection: Connection, ...args: Array<string | Buffer>): Promise<string> {
  return describeReply(await connection.send(...args));
}

/** Starts the step before the suite's tests and stops it after them. */
export function withServer(step: string, args: string[]): () => RunningServer {
  let server: RunningServer | undefined;
  before(async () => {
    server = await launchStep(step, { args: ['--quiet', ...args] });
  }, BOUNDED);
  after(async () => {
    await server?.stop();
  }, BOUNDED);
  return () => server!;
}

export function commandSuite(step: string, args: string[] = []): void {
  describe(`step ${step}: commands`, () => {
    const server = withServer(step, args);
    let c: Connection;
    before(async () => {
      c = await Connection.open(server().host, server().port);
    }, BOUNDED);
    after(() => c.close(), BOUNDED);

    it('POST creates only, PUT updates only, GET reads, DELETE removes', BOUNDED, async () => {
      assert.equal(await ask(c, 'POST', 'greeting', 'hello world'), 'OK');
      assert.equal(await ask(c, 'GET', 'greeting'), '"hello world"');
      assert.match(await ask(c, 'POST', 'greeting', 'again'), /^ALREADY_EXISTS /);
      assert.match(await ask(c, 'PUT', 'nobody', 'x'), /^NOT_FOUND /);
      assert.equal(await ask(c, 'PUT', 'greeting', 'bye'), 'OK');
      assert.equal(await ask(c, 'GET', 'greeting'), '"bye"');
      assert.equal(await ask(c, 'DELETE', 'greeting'), 'OK');
      assert.match(await ask(c, 'DELETE', 'greeting'), /^NOT_FOUND /);
      assert.equal(await ask(c, 'GET', 'greeting'), '(nil)');
    });

    it('INCR counts from 0 and refuses a non-integer', BOUNDED, async () => {
      assert.equal(await ask(c, 'INCR', 'counter'), '(integer) 1');
      assert.equal(await ask(c, 'INCR', 'counter'), '(integer) 2');
      assert.equal(await ask(c, 'POST', 'word', 'abc'), 'OK');
      assert.match(await ask(c, 'INCR', 'word'), /^INVALID_VALUE /);
    });

    it('SET with NX and XX, DEL, DBSIZE, PING behave as in Redis', BOUNDED, async () => {
      assert.equal(await ask(c, 'SET', 'nx', '1', 'NX'), 'OK');
      assert.equal(await ask(c, 'SET', 'nx', '2', 'NX'), '(nil)');
      assert.equal(await ask(c, 'SET', 'xx', '1', 'XX'), '(nil)');
      assert.equal(await ask(c, 'SET', 'nx', '3', 'XX'), 'OK');
      assert.equal(await ask(c, 'GET', 'nx'), '"3"');
      assert.match(await ask(c, 'SET', 'nx', '3', 'EX'), /^ERR syntax error/); // EX without its seconds, as Redis
      assert.equal(await ask(c, 'DEL', 'nx', 'xx', 'word'), '(integer) 2');
      assert.equal(await ask(c, 'PING'), 'PONG');
      assert.equal(await ask(c, 'PING', 'hi'), '"hi"');
      assert.match(await ask(c, 'DBSIZE'), /^\(integer\) \d+$/);
    });

    it('keys and values are binary-safe and may hold spaces and newlines', BOUNDED, async () => {
      const key = Buffer.from([0, 1, 2, 255, 13, 10, 32]);
      const value = Buffer.from([255, 0, 13, 10, 36, 42, 43]);
      assert.equal(await ask(c, 'POST', key, value), 'OK');
      const reply = await c.send('GET', key);
      assert.ok(reply.type === 'bulk' && reply.value !== null && reply.value.equals(value));
      assert.equal(await ask(c, 'POST', 'empty', ''), 'OK');
      assert.equal(await ask(c, 'GET', 'empty'), '""');
    });

    it('DUMP returns every entry as key, value pairs', BOUNDED, async () => {
      const fresh = await Connection.open(server().host, server().port);
      await fresh.send('POST', 'dump:a', '1');
      const reply = await fresh.send('DUMP');
      assert.equal(reply.type, 'array');
      const entries = dumpToMap(reply);
      assert.equal(entries.get('dump:a'), '1');
      const size = await fresh.send('DBSIZE');
      assert.equal(size.type === 'integer' && size.value, entries.size);
      await fresh.close();
    });

    it('unknown commands and wrong arity get INVALID_COMMAND and a reason', BOUNDED, async () => {
      assert.match(await ask(c, 'FROB', 'x'), /^INVALID_COMMAND unknown command 'FROB'/);
      assert.match(await ask(c, 'GET'), /^INVALID_COMMAND wrong number of arguments for 'GET' \(usage: GET key\)/);
      assert.match(await ask(c, 'POST', 'k'), /^INVALID_COMMAND wrong number of arguments/);
      assert.match(await ask(c, 'get', 'k', 'extra'), /^INVALID_COMMAND wrong number of arguments/);
    });

    it('answers what redis-cli and redis-benchmark send when they connect', BOUNDED, async () => {
      assert.equal(await ask(c, 'COMMAND', 'DOCS'), '[]');
      assert.match(await ask(c, 'CONFIG', 'GET', 'appendonly'), /^\["appendonly", "(no|yes)"\]$/); // step 06: yes, it logs every write
      assert.match(await ask(c, 'INFO'), /loading:0/);
    });

    it('QUIT replies OK and closes the connection', BOUNDED, async () => {
      const quitter = await Connection.open(server().host, server().port);
      const closed = new Promise<void>((resolve) => {
        quitter.onClose = () => resolve();
      });
      assert.equal(await ask(quitter, 'QUIT'), 'OK');
      await closed;
      assert.ok(quitter.closed);
    });

    redisCommandTests(step, server);
  });
}

export function hostileInputSuite(step: string, args: string[] = []): void {
  describe(`step ${step}: hostile input hurts only its sender`, () => {
    const server = withServer(step, args);
    let witness: Connection; // a well-behaved client that must be served throughout

    before(async () => {
      witness = await Connection.open(server().host, server().port);
      for (let i = 0; i < 20; i++) assert.equal(await ask(witness, 'POST', `safe:${i}`, `value ${i}`), 'OK');
    }, BOUNDED);

    /** Sends raw bytes on a fresh socket; resolves with what came back once the server closed it. */
    function sendRaw(bytes: Buffer | string | Array<Buffer | string>): Promise<string> {
      return new Promise((resolve, reject) => {
        const socket = net.connect(server().port, server().host);
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString('latin1')));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        socket.on('connect', () => {
          for (const piece of Array.isArray(bytes) ? bytes : [bytes]) socket.write(piece);
        });
      });
    }

    for (const [name, bytes, expected] of [
      ['a bad array header', '*x\r\n', /^-PROTOCOL_ERROR invalid array header/],
      ['a negative bulk length', '*1\r\n$-7\r\n', /^-PROTOCOL_ERROR invalid bulk length/],
      ['an enormous bulk length', '*1\r\n$99999999999\r\n', /^-PROTOCOL_ERROR argument of 99999999999 bytes/],
      ['an impossible argument count', '*4000000000\r\n', /^-PROTOCOL_ERROR too many arguments/],
      ['a bulk without its CRLF', '*1\r\n$4\r\nPINGxx', /^-PROTOCOL_ERROR bulk string not followed by CRLF/],
      ['a non-bulk element', '*2\r\n+OK\r\n', /^-PROTOCOL_ERROR expected '\$'/],
    ] as const) {
      it(`closes a connection that sends ${name}, with a clear error`, BOUNDED, async () => {
        assert.match(await sendRaw(bytes), expected);
        assert.equal(await ask(witness, 'PING'), 'PONG');
      });
    }

    it('answers the valid requests sent before a protocol error, then closes', BOUNDED, async () => {
      const received = await sendRaw('PING\r\n*1\r\n$4\r\nPING\r\n*?\r\nPING\r\n');
      assert.match(received, /^\+PONG\r\n\+PONG\r\n-PROTOCOL_ERROR /);
    });

    it('closes a connection that sends an endless line', BOUNDED, async () => {
      // 1 MiB without a newline: past the 64 KiB inline limit.
      const received = await sendRaw(Array.from({ length: 16 }, () => Buffer.alloc(64 * 1024, 'a')));
      assert.match(received, /^-PROTOCOL_ERROR inline command longer than 65536 bytes/);
      assert.equal(await ask(witness, 'PING'), 'PONG');
    });

    it('parses requests sent one byte at a time', BOUNDED, async () => {
      const bytes = Buffer.from('*3\r\n$4\r\nPOST\r\n$8\r\nbytewise\r\n$3\r\nyes\r\nGET bytewise\r\nQUIT\r\n');
      const pieces = [...bytes].map((byte) => Buffer.from([byte]));
      // Written one per write; even if some coalesce, the server must see one stream.
      assert.equal(await sendRaw(pieces), '+OK\r\n$3\r\nyes\r\n+OK\r\n');
    });

    it('survives clients that vanish mid-request, and stores nothing half-sent', BOUNDED, async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => new Promise<void>((resolve) => {
          const socket = net.connect(server().port, server().host, () => {
            socket.write(`*3\r\n$4\r\nPOST\r\n$9\r\nvanish:${String(i).padStart(2, '0')}\r\n$100\r\nonly part`);
            socket.destroy();
          });
          socket.on('close', () => resolve());
          socket.on('error', () => {});
        })),
      );
      assert.equal(await ask(witness, 'GET', 'vanish:00'), '(nil)');
      assert.equal(await ask(witness, 'PING'), 'PONG');
    });

    // 40 connections at once: in steps 02-05 each starts a thread (about
    // 170 ms of CPU), so on a loaded 2-core machine this takes 15-25 s.
    it('keeps serving through a storm of connections', { timeout: 4 * TEST_TIMEOUT_MS }, async () => {
      const storm = Array.from({ length: 40 }, async (_, i) => {
        const connection = await Connection.open(server().host, server().port);
        const reply = await ask(connection, 'POST', `storm:${i}`, 'x');
        if (i % 2 === 0) connection.destroy();
        else await connection.close();
        return reply;
      });
      const replies = await Promise.all(storm);
      assert.ok(replies.every((reply) => reply === 'OK'), replies.join(', '));
      assert.equal(await ask(witness, 'GET', 'storm:39'), '"x"');
    });

    it('keeps serving others while one client pipelines without reading', BOUNDED, async () => {
      const flooder = net.connect(server().port, server().host);
      flooder.on('error', () => {});
      await new Promise<void>((resolve) => flooder.once('connect', () => resolve()));
      flooder.pause(); // never reads: its replies back up in its socket, not in our memory
      const request = Buffer.from('GET safe:1\r\n'.repeat(5000));
      for (let i = 0; i < 20; i++) flooder.write(request);
      assert.equal(await ask(witness, 'GET', 'safe:1'), '"value 1"');
      flooder.destroy();
    });

    it('lost nothing it acknowledged, whatever the others did', BOUNDED, async () => {
      const entries = dumpToMap(await witness.send('DUMP'));
      for (let i = 0; i < 20; i++) assert.equal(entries.get(`safe:${i}`), `value ${i}`);
      assert.equal(entries.get('bytewise'), 'yes');
      await witness.close();
    });
  });
}

/** DUMP's flat array -> Map of key -> value (as UTF-8 strings). */
export function dumpToMap(reply: Reply): Map<string, string> {
  assert.equal(reply.type, 'array');
  const items = (reply.type === 'array' && reply.value) || [];
  const entries = new Map<string, string>();
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = items[i]!;
    const value = items[i + 1]!;
    if (key.type === 'bulk' && value.type === 'bulk' && key.value && value.value) {
      entries.set(key.value.toString('utf8'), value.value.toString('utf8'));
    }
  }
  return entries;
}
