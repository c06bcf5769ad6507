import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Connection } from '../../../shared/client/connection.ts';
import { describeReply, type Reply } from '../../../shared/protocol/reply.ts';
import { scratchDir } from '../../../tester/harness/scratch-dir.ts';
import { until } from '../../../tester/harness/until.ts';
import { freePort } from '../../../tester/harness/free-port.ts';

// Helpers for the replication tests: a real redis-server, a hand-made replica
// on a raw socket, the figures and the data to compare.

export const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;
export const NO_REDIS = 'redis-server is not installed (apt-get install redis-server): skipped';


export interface RedisProcess {
  port: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** A redis-server with no persistence, in a scratch folder; resolves once it accepts connections. */
export async function startRedis(args: string[] = []): Promise<RedisProcess> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', scratchDir('kv-redis-'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  process.once('exit', () => child.kill('SIGKILL'));
  await until(() => output.includes('Ready to accept connections'), 'redis-server to start', 10_000, { detail: () => output });
  return {
    port, child, output: () => output,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}

/** Every key and value, through SCAN and GET (works on Redis and on ours). */
export async function scanAll(connection: Connection): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const page = await connection.send('SCAN', cursor, 'COUNT', '1000');
    if (page.type !== 'array' || page.value === null) throw new Error(`SCAN replied ${describeReply(page)}`);
    cursor = (page.value[0] as { value: Buffer }).value.toString();
    const keys = ((page.value[1] as { value: Reply[] }).value).map((key) => (key as { value: Buffer }).value.toString('latin1'));
    if (keys.length === 0) continue;
    const values = await connection.send('MGET', ...keys.map((key) => Buffer.from(key, 'latin1')));
    if (values.type !== 'array' || values.value === null) throw new Error(`MGET replied ${describeReply(values)}`);
    keys.forEach((key, i) => out.set(key, ((values.value![i] as { value: Buffer | null }).value ?? Buffer.from('(nil)')).toString('latin1')));
  } while (cursor !== '0');
  return out;
}

/**
 * A replica made by hand on a raw socket: it sends the handshake and keeps
 * every byte the primary sends, so a test can read the protocol itself.
 */
export class RawReplica {
  bytes = Buffer.alloc(0);
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => { this.bytes = Buffer.concat([this.bytes, chunk]); });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => {});
  }

  static async connect(port: number, psync: [string, string] = ['?', '-1']): Promise<RawReplica> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const replica = new RawReplica(socket);
    socket.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n9999\r\n');
    socket.write(`*3\r\n$5\r\nPSYNC\r\n$${psync[0].length}\r\n${psync[0]}\r\n$${psync[1].length}\r\n${psync[1]}\r\n`);
    return replica;
  }

  get text(): string {
    return this.bytes.toString('latin1');
  }

  /** After +FULLRESYNC: the replid, the offset, the RDB and the stream's bytes after it. */
  async fullResync(): Promise<{ replid: string; offset: number; rdb: Buffer; stream: () => string }> {
    let match: RegExpExecArray | null = null;
    await until(() => (match = /^\+OK\r\n\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n\$(\d+)\r\n/.exec(this.text)) !== null
      && this.bytes.length >= match[0].length + Number(match[3]), 'a +FULLRESYNC and its RDB', 20_000, { detail: () => this.text.slice(0, 300) });
    const m = match!;
    const start = m[0].length;
    const end = start + Number(m[3]);
    return { replid: m[1]!, offset: Number(m[2]), rdb: this.bytes.subarray(start, end), stream: () => this.bytes.subarray(end).toString('latin1') };
  }
}

/**
 * Expiry and list writes (issue 13) under `prefix`: a list pushed and popped
 * at both ends, a list emptied (gone), a list and a string with a TTL, a key
 * whose TTL a plain SET removed, a PERSISTed key, a counter with a TTL that
 * INCR, INCRBY, DECR, DECRBY and INCRBYFLOAT change (and keep).
 */
export async function expiryAndListWrites(c: Connection, prefix: string): Promise<void> {
  await c.send('RPUSH', `${prefix}:list`, 'a', 'b', 'c', 'd');
  await c.send('LPOP', `${prefix}:list`);
  await c.send('LPUSH', `${prefix}:list`, 'z');
  await c.send('RPOP', `${prefix}:list`);
  await c.send('RPUSH', `${prefix}:emptied`, 'x');
  await c.send('LPOP', `${prefix}:emptied`);
  await c.send('RPUSH', `${prefix}:list-ttl`, 'x', 'y');
  await c.send('EXPIRE', `${prefix}:list-ttl`, '1000');
  await c.send('SET', `${prefix}:ttl`, 'v');
  await c.send('EXPIRE', `${prefix}:ttl`, '1000');
  await c.send('SET', `${prefix}:overwritten`, 'old', 'EX', '1000');
  await c.send('SET', `${prefix}:overwritten`, 'new');
  await c.send('SET', `${prefix}:persisted`, 'p');
  await c.send('EXPIRE', `${prefix}:persisted`, '1000');
  await c.send('PERSIST', `${prefix}:persisted`);
  // Writes that store their result keep the key's time (Redis's INCR does):
  // the stream must not send them as a plain SET, which forgets it.
  await c.send('SET', `${prefix}:counter-ttl`, '1', 'EX', '1000');
  await c.send('INCR', `${prefix}:counter-ttl`);
  await c.send('INCRBY', `${prefix}:counter-ttl`, '10');
  await c.send('DECR', `${prefix}:counter-ttl`);
  await c.send('DECRBY', `${prefix}:counter-ttl`, '2');
  await c.send('INCRBYFLOAT', `${prefix}:counter-ttl`, '0.5');
}

/** What expiryAndListWrites left, as one line per key: its TYPE, its TTL (-1, -2 or "ttl>0"), GET or LRANGE. */
export async function expiryAndListView(c: Connection, prefix: string): Promise<string[]> {
  const lines: string[] = [];
  for (const name of ['list', 'emptied', 'list-ttl', 'ttl', 'overwritten', 'persisted', 'counter-ttl']) {
    const key = `${prefix}:${name}`;
    const type = describeReply(await c.send('TYPE', key));
    const ttl = describeReply(await c.send('TTL', key));
    const ttlText = /^\(integer\) (\d+)$/.test(ttl) && Number(/\d+/.exec(ttl)![0]) > 900 ? 'ttl>900' : ttl;
    const value = type === 'list' ? describeReply(await c.send('LRANGE', key, '0', '-1')) : describeReply(await c.send('GET', key));
    lines.push(`${key} ${type} ${ttlText} ${value}`);
  }
  return lines;
}

/** What expiryAndListView shows on the primary after expiryAndListWrites. */
export const expiryAndListExpected = (prefix: string): string[] => [
  `${prefix}:list list (integer) -1 ["z", "b", "c"]`,
  `${prefix}:emptied none (integer) -2 (nil)`,
  `${prefix}:list-ttl list ttl>900 ["x", "y"]`,
  `${prefix}:ttl string ttl>900 "v"`,
  `${prefix}:overwritten string (integer) -1 "new"`,
  `${prefix}:persisted string (integer) -1 "p"`,
  `${prefix}:counter-ttl string ttl>900 "9.5"`,
];
