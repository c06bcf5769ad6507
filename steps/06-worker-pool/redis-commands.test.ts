import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Connection } from '../../shared/client/connection.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from '../../tester/harness/launch.ts';
import { tempDataDir, workerPids } from '../../tester/harness/persistence-suites.ts';
import { until } from '../../tester/harness/until.ts';
import { HAVE_REDIS, NO_REDIS, startRedis } from './replication/fixtures.ts';

// Commands and figures that Redis's own tools and client libraries ask step
// 06 for, answered as Redis 7 answers them: STRLEN, MEMORY USAGE, CONFIG GET
// (maxmemory, save, appendonly, maxmemory-policy, databases, glob patterns),
// BGREWRITEAOF while a rewrite runs, and INFO's aof_rewrites across a restart
// of a worker process. Through redis-cli where a user would type them.

const run = promisify(execFile);
const BOUNDED = { timeout: 120_000 };

const start = (args: string[] = [], env: Record<string, string> = {}): Promise<RunningServer> =>
  launchStep('06', { args: ['--quiet', '--data-dir', tempDataDir(), ...args], env });

/** redis-cli's output lines for one command (no terminal: replies as they are). */
async function cli(port: number, ...args: string[]): Promise<string[]> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
  return stdout.replace(/\n$/, '').split('\n');
}

/** One INFO field, from INFO persistence. */
async function persistenceField(connection: Connection, name: string): Promise<string | undefined> {
  const reply = await connection.send('INFO', 'persistence');
  assert.ok(reply.type === 'bulk' && reply.value !== null);
  return new RegExp(`^${name}:(.*?)\\r?$`, 'm').exec(reply.value.toString())?.[1];
}

describe('step 06: Redis\'s commands for tools and clients', () => {
  it('STRLEN, MEMORY USAGE and CONFIG GET, through redis-cli', BOUNDED, async () => {
    const server = await start(['--max-memory', '10mb']);
    try {
      const p = server.port;
      await cli(p, 'SET', 'greeting', 'hello');
      await cli(p, 'RPUSH', 'list', 'a', 'b', 'c');
      assert.deepEqual(await cli(p, 'STRLEN', 'greeting'), ['5']);
      assert.deepEqual(await cli(p, 'STRLEN', 'nobody'), ['0']);
      assert.equal((await cli(p, 'STRLEN', 'list'))[0], 'WRONGTYPE Operation against a key holding the wrong kind of value');

      const small = Number((await cli(p, 'MEMORY', 'USAGE', 'greeting'))[0]);
      assert.ok(small >= 24 + 8 + 5 && small < 200, `MEMORY USAGE of a small string: ${small}`);
      const big = 'x'.repeat(100_000);
      const connection = await Connection.open(server.host, p);
      try {
        await connection.send('SET', 'big', big);
        const usage = await connection.send('MEMORY', 'USAGE', 'big', 'SAMPLES', '5');
        assert.ok(usage.type === 'integer' && usage.value >= 100_000 && usage.value < 110_000, `MEMORY USAGE of 100,000 bytes: ${describeReply(usage)}`);
        assert.equal(describeReply(await connection.send('MEMORY', 'USAGE', 'nobody')), '(nil)');
        assert.ok(Number((await cli(p, 'MEMORY', 'USAGE', 'list'))[0]) > 0);
        assert.match(describeReply(await connection.send('MEMORY', 'STATS', 'x')), /unknown subcommand 'STATS'/);
      } finally {
        await connection.close();
      }

      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'maxmemory'), ['maxmemory', String(10 * 1024 * 1024)]);
      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'save'), ['save', '']);
      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'appendonly'), ['appendonly', 'yes'], 'every write is logged');
      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'databases'), ['databases', '1']);
      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'maxmemory*'), ['maxmemory', String(10 * 1024 * 1024), 'maxmemory-policy', 'noeviction']);
      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'save', 'DATABASES'), ['save', '', 'databases', '1']);
      assert.deepEqual(await cli(p, 'CONFIG', 'GET', 'no-such-setting'), [''], 'an empty list');
    } finally {
      await server.stop();
    }
  });

  it('BGREWRITEAOF while a rewrite runs: Redis\'s error', BOUNDED, async () => {
    // The rewrite stops at its first phase (KV_REWRITE_PAUSE) until the server ends.
    const server = await start(['--workers', '1', '--aof-rewrite-percentage', '0'], { KV_REWRITE_PAUSE: 'switched' });
    try {
      await cli(server.port, 'SET', 'k', 'v');
      assert.deepEqual(await cli(server.port, 'BGREWRITEAOF'), ['Background append only file rewriting started']);
      const connection = await Connection.open(server.host, server.port);
      try {
        await until(async () => (await persistenceField(connection, 'aof_rewrite_in_progress')) === '1', 'the rewrite to be in progress');
        assert.equal((await cli(server.port, 'BGREWRITEAOF'))[0], 'ERR Background append only file rewriting already in progress');
      } finally {
        await connection.close();
      }
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('aof_rewrites counts since the server started: it does not drop when a worker process is restarted', BOUNDED, async () => {
    const server = await start(['--workers', '1', '--aof-rewrite-percentage', '0']);
    const connection = await Connection.open(server.host, server.port);
    try {
      let seen = '';
      const rewriteOnce = async (expected: number) => {
        await connection.send('SET', 'k', `v${expected}`);
        const reply = await connection.send('BGREWRITEAOF');
        assert.equal(reply.type, 'simple', describeReply(reply));
        await until(async () => {
          seen = `aof_rewrites:${await persistenceField(connection, 'aof_rewrites')} in_progress:${await persistenceField(connection, 'aof_rewrite_in_progress')}`;
          return seen === `aof_rewrites:${expected} in_progress:0`;
        }, `aof_rewrites:${expected}`, 20_000, { detail: () => `${seen}\n${server.log()}` });
      };
      await rewriteOnce(1);
      await rewriteOnce(2);
      const [worker] = workerPids(server);
      process.kill(worker!, 'SIGKILL');
      await until(() => processGone(worker!), 'the worker process is gone');
      // (restarts=1 shows as soon as the death is seen; alive=1 once the new process has its log open.)
      await until(async () => /alive=1,restarts=1/.test((await persistenceField(connection, 'worker_0')) ?? ''), 'the worker process is restarted');
      assert.equal(await persistenceField(connection, 'aof_rewrites'), '2', 'the two rewrites of the process that died still count');
      await rewriteOnce(3);
    } finally {
      await connection.close();
      await server.stop();
    }
  });
});

// Bad requests to Redis's commands, sent through redis-cli to a real
// redis-server and to step 06, one after the other: the replies must be the
// same, word for word (wrong arity, WRONGTYPE, numbers out of range, options
// that cannot go together). The seed's own commands (SET's unknown option,
// DEL, PING) keep the course's INVALID_COMMAND and are not in this list.
const BAD_REQUESTS: string[][] = [
  ['RPUSH', 'l', 'a'], ['SET', 's', '5'], ['SET', 'big', '9223372036854775807'],
  ['GET', 'l'], ['INCR', 'l'], ['INCRBY', 'l', '1'], ['INCRBY', 's', 'x'], ['INCRBY', 's', '99999999999999999999'],
  ['INCRBY', 's'], ['DECR'], ['DECRBY', 's', '1', '2'], ['DECRBY', 's', '-9223372036854775808'], ['INCR', 'big'],
  ['INCRBYFLOAT', 's', 'abc'], ['INCRBYFLOAT', 'l', '1'], ['MGET'], ['MSET', 'a'], ['MSET', 'a', '1', 'b'],
  ['EXISTS'], ['TYPE', 'a', 'b'], ['KEYS'], ['SCAN'], ['SCAN', 'abc'], ['SCAN', '0', 'COUNT', '0'],
  ['SCAN', '0', 'COUNT', 'x'], ['SCAN', '0', 'MATCH'], ['DBSIZE', 'x'], ['FLUSHDB', 'x'],
  ['EXPIRE', 's'], ['EXPIRE', 's', 'x'], ['EXPIRE', 's', '10', 'FOO'], ['EXPIRE', 's', 'x', 'FOO'],
  ['EXPIRE', 's', '10', 'NX', 'XX'], ['EXPIRE', 's', '10', 'GT', 'LT'], ['EXPIRE', 's', '10', 'XX', 'GT'],
  ['EXPIRE', 's', '99999999999999999'], ['PEXPIRE', 's', '9223372036854775807'], ['TTL'], ['PERSIST'],
  ['SET', 'k', 'v', 'EX', '0'], ['SET', 'k', 'v', 'EX', 'x'], ['SET', 'k', 'v', 'NX', 'XX'], ['SET', 'l', 'v', 'GET'],
  ['LPUSH', 's', 'x'], ['LPUSH', 'l'], ['LPOP', 'l', '-1'], ['LPOP', 's'], ['LLEN', 's'], ['LRANGE', 'l', 'a', 'b'],
  ['LRANGE', 's', '0', '-1'], ['BLPOP', 'l'], ['BLPOP', 'l', 'x'], ['BLPOP', 'l', '-1'], ['BRPOP', 's', '0.01'],
  ['HELLO', '4'], ['HELLO', 'x'], ['HELLO', '3', 'AUTH'], ['AUTH'], ['AUTH', 'bob', 'pw'], ['SELECT', 'x'],
  ['CLIENT'], ['CLIENT', 'FOO'], ['CLIENT', 'SETNAME', 'a b'], ['EXEC'], ['DISCARD'], ['WATCH'], ['UNWATCH', 'x'],
  ['ECHO'], ['STRLEN', 'l'], ['CONFIG'], ['CONFIG', 'FOO'], ['CONFIG', 'GET'],
];

describe('step 06: bad requests answered as redis-server answers them', { skip: HAVE_REDIS ? false : NO_REDIS }, () => {
  it('the same reply, word for word, through redis-cli', BOUNDED, async () => {
    const server = await start();
    const redis = await startRedis();
    try {
      const differences: string[] = [];
      for (const request of BAD_REQUESTS) {
        const theirs = (await cli(redis.port, ...request)).join('\n');
        const ours = (await cli(server.port, ...request)).join('\n');
        if (ours !== theirs) differences.push(`${request.join(' ')}\n  redis-server: ${theirs}\n  step 06:      ${ours}`);
      }
      assert.deepEqual(differences, [], differences.join('\n'));
    } finally {
      await redis.stop();
      await server.stop();
    }
  });
});
