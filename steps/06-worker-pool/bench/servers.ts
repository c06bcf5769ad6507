// What the step 06 benchmarks share: a redis-server of their own (no
// persistence, a free port), the resident memory of a process, medians,
// step 06 started as its README starts it, and the replication benchmarks'
// servers and load.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Connection } from '../../../shared/client/connection.ts';
import { createInterface } from 'node:readline';
import { describeReply } from '../../../shared/protocol/reply.ts';
import { freePort } from '../../../tester/harness/free-port.ts';
import { launchServer, type RunningServer } from '../../../tester/harness/launch.ts';
import { scratchDir } from '../../../tester/harness/scratch-dir.ts';

export interface RedisServer {
  port: number;
  pid: number;
  stop(): void;
  /** Settles once the process has exited (after stop(), say). */
  exited: Promise<void>;
}


/**
 * Starts redis-server without persistence (or with `args` instead, Redis's
 * own options); resolves once it accepts connections.
 */
export async function startRedis(args: string[] = ['--save', '', '--appendonly', 'no']): Promise<RedisServer> {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => redis.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => redis.once('exit', () => resolve()));
  await new Promise<void>((resolve) => createInterface({ input: redis.stdout! }).on('line', (line) => {
    if (/Ready to accept connections/.test(line)) resolve();
  }));
  return { port, pid: redis.pid!, stop: () => redis.kill('SIGTERM'), exited };
}

/** Resident memory of a process, in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Milliseconds from the spawn to each line of step 06's start-up log. */
export interface Phases { code: number; replayed: number; workers: number; listening: number }

export interface NpmStarted {
  port: number;
  phases: Phases;
  /** Its log's `replayed N records ...` line. */
  replayedLine: string;
  /** The server's pid (the last process npm started) and its worker processes' pids, from its log. */
  pids(): { server: number; workers: number[] };
  /** SHUTDOWN through the protocol (npm does not pass SIGTERM on), and the processes gone. */
  shutdown(): Promise<void>;
}

/**
 * Starts step 06 as its README says, `npm run step -- 06`, in `checkout`,
 * on `dataDir`; resolves once it listens, with the time each phase of its
 * start took (its log lines' clock against ours).
 */
export async function startByNpm(checkout: string, dataDir: string, env: Record<string, string> = {}): Promise<NpmStarted> {
  const started = Date.now();
  const child = spawn('npm', ['run', '--silent', 'step', '--', '06', '--port', '0', '--quiet', '--data-dir', dataDir], {
    // A process group of its own: if this process ends first, npm, the
    // launcher and the server all go (a SIGKILL of npm alone leaves them).
    cwd: checkout, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true,
  });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // (already gone)
    }
  };
  process.once('exit', kill);
  const phases: Partial<Phases> = {};
  let log = '';
  const at = (line: string) => {
    const match = /^(\d\d):(\d\d):(\d\d)\.(\d\d\d) /.exec(line);
    if (match === null) return Date.now() - started;
    const today = new Date(started);
    today.setHours(Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4]));
    return today.getTime() - started;
  };
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log += `${line}\n`;
    if (/ step 06-worker-pool: /.test(line)) phases.code ??= at(line);
    else if (/ replayed /.test(line)) phases.replayed ??= at(line);
    else if (/ worker processes: /.test(line)) phases.workers ??= at(line);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${checkout}: no 'listening on' line within 60 s\n${log}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening on .+:(\d+)$/.exec(line);
      if (match === null) return;
      phases.listening = Date.now() - started;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
  });
  const c = await Connection.open('127.0.0.1', port);
  const info = await c.send('INFO');
  c.destroy();
  const serverPid = Number(/process_id:(\d+)/.exec(info.type === 'bulk' ? String(info.value) : '')?.[1]);
  return {
    port,
    phases: phases as Phases,
    replayedLine: /replayed .*/.exec(log)?.[0] ?? '',
    pids: () => ({
      server: serverPid,
      workers: (/worker processes: ([\d, ]+)/.exec(log)?.[1] ?? '').split(',').map((pid) => Number(pid.trim())),
    }),
    async shutdown() {
      const connection = await Connection.open('127.0.0.1', port);
      await connection.send('SHUTDOWN').catch(() => {});
      connection.destroy();
      await exited;
      process.off('exit', kill);
    },
  };
}

// What the replication benchmarks share (replication.ts, replication-cpu.ts).

/** Their load on a primary: redis-benchmark's SETs, one at a time on each of 50 connections, over 100,000 keys. */
export const REPLICATION_LOAD = ['-t', 'set', '-P', '1', '-c', '50', '-r', '100000'];

/** The SET rate in what `redis-benchmark -q` printed. */
export const setRate = (out: string) => Number(/SET: ([\d.]+) requests per second/.exec(out)?.[1]);

/** A server of the replication benchmarks: where it listens, and its process (for its CPU). */
export interface BenchServer {
  host: string;
  port: number;
  pid: number;
}

/** Step 06 (or redis-server) alone, and as a primary with one replica of its own kind. */
export interface ReplicationSetUp {
  alone: BenchServer;
  primary: BenchServer;
  replica: BenchServer;
  /** Stops the three. */
  stop(): Promise<void>;
}

/**
 * Starts the step 06 of `serverFile` three times, each on a data folder of
 * its own: one alone, one primary, and a replica of it (--replicaof),
 * each with `options` too; resolves once the replica has synced (ROLE says
 * "connected").
 */
export async function startReplicationSetUp(serverFile: string, options: string[] = []): Promise<ReplicationSetUp> {
  const start = (args: string[] = []) =>
    launchServer(serverFile, { args: ['--quiet', '--data-dir', scratchDir('repl-bench-'), ...options, ...args] });
  const alone = await start();
  const primary = await start();
  const replica = await start(['--replicaof', `127.0.0.1 ${primary.port}`]);
  await untilSynced(replica.port, (role) => role.includes('"connected"'));
  const server = (running: RunningServer): BenchServer => ({ host: running.host, port: running.port, pid: running.child.pid! });
  return {
    alone: server(alone), primary: server(primary), replica: server(replica),
    stop: async () => {
      await Promise.all([replica.stop(), primary.stop(), alone.stop()]);
    },
  };
}

/**
 * The same three as real redis-servers (replication.ts --redis), each
 * logging every write as step 06 does (appendonly, fsync every second,
 * in a folder of its own): what this machine gives Redis's own replication.
 */
export async function startRedisReplicationSetUp(): Promise<ReplicationSetUp> {
  const persisting = () => ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', scratchDir('repl-bench-redis-')];
  const alone = await startRedis(persisting());
  const primary = await startRedis(persisting());
  const replica = await startRedis([...persisting(), '--replicaof', '127.0.0.1', String(primary.port)]);
  // ROLE on a replica: ["slave", host, port, state, offset]; "connected" once synced.
  await untilSynced(replica.port, (role) => role.includes('"connected"'));
  const server = (redis: RedisServer): BenchServer => ({ host: '127.0.0.1', port: redis.port, pid: redis.pid });
  return {
    alone: server(alone), primary: server(primary), replica: server(replica),
    stop: async () => {
      for (const redis of [replica, primary, alone]) redis.stop();
      await Promise.all([replica, primary, alone].map((redis) => redis.exited)); // (then their folders can go)
    },
  };
}

/** Asks the replica's ROLE until `synced` says yes (at most 30 s). */
async function untilSynced(port: number, synced: (role: string) => boolean): Promise<void> {
  const r = await Connection.open('127.0.0.1', port);
  try {
    for (const deadline = Date.now() + 30_000; !synced(describeReply(await r.send('ROLE')));) {
      if (Date.now() > deadline) throw new Error('the replica never synced');
    }
  } finally {
    await r.close();
  }
}

/** Issue 14's bar for the throughput with one replica, and what a ratio says of it. */
export const REPLICA_RATIO_BAR = 0.8;
export const barVerdict = (ratio: number) =>
  `issue 14's bar, with one replica at least ${REPLICA_RATIO_BAR}x the SET throughput without: ` +
  `${ratio >= REPLICA_RATIO_BAR ? 'met' : 'NOT met'} (${ratio.toFixed(2)}x)`;
