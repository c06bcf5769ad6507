import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Connection } from '../../shared/client/connection.ts';
import type { RunningServer } from '../../tester/harness/launch.ts';
import { start, tempDataDir } from '../../tester/harness/persistence-suites.ts';
import { until } from '../../tester/harness/until.ts';
import { infoField, untilInfo } from '../../tester/harness/info.ts';

// INFO as Redis 7 writes it, read by redis-cli: its sections and their
// headers, `INFO <section> ...` (case-insensitive, several at once, an empty
// reply for an unknown one), and the fields tools read (`redis-cli --stat`:
// keys, used_memory, connected_clients, blocked_clients,
// total_commands_processed, total_connections_received).

const run = promisify(execFile);
const BOUNDED = { timeout: 60_000 };
const SECTIONS = ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Threads', 'Keyspace'];

/** What redis-cli prints for `INFO args...` (the reply as it is, without a terminal), with plain newlines. */
async function info(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), 'INFO', ...args])).stdout.replaceAll('\r\n', '\n');
}
const headers = (text: string) => [...text.matchAll(/^# (.+)$/gm)].map((match) => match[1]!.trim());
const field = (text: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();

describe('step 06: INFO, by section', () => {
  let server: RunningServer;
  before(async () => { server = await start('06', tempDataDir()); });
  after(async () => { await server.stop(); });

  it('a bare INFO, INFO default, all and everything: every section, in Redis\'s order, a blank line between two', BOUNDED, async () => {
    for (const args of [[], ['default'], ['all'], ['everything'], ['ALL']]) {
      const text = await info(server.port, ...args);
      assert.deepEqual(headers(text), SECTIONS, `INFO ${args.join(' ')}`);
      assert.match(text, /\n\n# Clients\n/, 'a blank line before each header but the first');
    }
  });

  it('INFO replication has its header and only its fields', BOUNDED, async () => {
    const text = await info(server.port, 'replication');
    assert.deepEqual(headers(text), ['Replication']);
    assert.equal(text.split('\n')[0], '# Replication');
    assert.equal(field(text, 'role'), 'master');
    assert.equal(field(text, 'connected_slaves'), '0');
    assert.equal(field(text, 'used_memory'), undefined, 'no field of another section');
  });

  it('several sections at once, in the server\'s order whatever the order asked, names in any case', BOUNDED, async () => {
    assert.deepEqual(headers(await info(server.port, 'server', 'clients')), ['Server', 'Clients']);
    assert.deepEqual(headers(await info(server.port, 'CLIENTS', 'Server')), ['Server', 'Clients']);
    assert.deepEqual(headers(await info(server.port, 'keyspace', 'memory', 'stats')), ['Memory', 'Stats', 'Keyspace']);
  });

  it('an unknown section: an empty reply, as Redis gives, and the connection goes on', BOUNDED, async () => {
    assert.equal(await info(server.port, 'nosuchsection'), '', 'nothing, as redis-cli prints for Redis 7');
    assert.deepEqual(headers(await info(server.port, 'nosuchsection', 'cpu')), ['CPU']);
    const connection = await Connection.open(server.host, server.port);
    try {
      const reply = await connection.send('INFO', 'nosuchsection');
      assert.ok(reply.type === 'bulk' && reply.value !== null && reply.value.length === 0, 'an empty bulk string');
      assert.equal((await connection.send('PING')).type, 'simple');
    } finally {
      await connection.close();
    }
  });

  it('INFO server: redis_version, redis_mode, os, process_id, tcp_port, uptime_in_seconds', BOUNDED, async () => {
    const text = await info(server.port, 'server');
    assert.equal(field(text, 'redis_version'), '7.0.15', 'the version HELLO names');
    assert.equal(field(text, 'redis_mode'), 'standalone');
    assert.ok((field(text, 'os') ?? '').length > 0);
    assert.equal(field(text, 'process_id'), String(server.child.pid));
    assert.equal(field(text, 'tcp_port'), String(server.port));
    assert.match(field(text, 'uptime_in_seconds') ?? '', /^\d+$/);
  });

  it('INFO stats counts commands, connections, keyspace hits and misses; instantaneous_ops_per_sec follows the load', BOUNDED, async () => {
    const before = await info(server.port, 'stats');
    const connection = await Connection.open(server.host, server.port);
    try {
      await connection.send('SET', 'info:hit', 'v');
      await connection.send('GET', 'info:hit');
      await connection.send('GET', 'info:hit');
      await connection.send('GET', 'info:missing');
      const after = await info(server.port, 'stats');
      const grew = (name: string) => Number(field(after, name)) - Number(field(before, name));
      assert.equal(grew('keyspace_hits'), 2);
      assert.equal(grew('keyspace_misses'), 1);
      assert.ok(grew('total_commands_processed') >= 4, 'the four commands (and the INFO between) counted');
      assert.ok(grew('total_connections_received') >= 2, 'this connection and redis-cli\'s');
      // Under a stream of PINGs the rate, sampled every 100 ms, becomes positive.
      await until(async () => {
        await Promise.all(Array.from({ length: 200 }, () => connection.send('PING')));
        return Number(field(await info(server.port, 'stats'), 'instantaneous_ops_per_sec')) > 0;
      }, 'instantaneous_ops_per_sec above 0 under load', 20_000);
    } finally {
      await connection.close();
    }
  });

  it('INFO memory: mem_fragmentation_ratio is sensible on an empty server (RSS over what the process allocated)', BOUNDED, async () => {
    const ratio = Number(field(await info(server.port, 'memory'), 'mem_fragmentation_ratio'));
    assert.ok(ratio >= 1 && ratio < 50, `mem_fragmentation_ratio ${ratio}`);
  });

  it('INFO memory: idle_collections, two once the commands stop, not before 30 s into the quiet, INFO itself not counting as work', { timeout: 90_000 }, async () => {
    const connection = await Connection.open(server.host, server.port);
    try {
      const before = Number(await infoField(connection, 'idle_collections'));
      await connection.send('SET', 'info:idle', 'v');
      const quietFrom = Date.now();
      // Polled by INFO all along (every 20 ms): were INFO work, the server would never be idle.
      await untilInfo(connection, 'idle_collections', (shown) => Number(shown) >= before + 2, 60_000);
      // The event loop collects 30 s and 32 s into the quiet (server.ts), not at
      // the worker processes' 1 s and 8 s: a collection then would slow the next load.
      const waited = Date.now() - quietFrom;
      assert.ok(waited >= 30_000, `the two collections came ${waited} ms after the last command`);
    } finally {
      await connection.close();
    }
  });
});
