import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '../shared/client/connection.ts';
import { launchServer } from './harness/launch.ts';
import { processTree } from './proc-stats.ts';
import { processGone } from '../shared/persistence/process-gone.ts';
import { freePort } from './harness/free-port.ts';

const isAlive = (pid: number): boolean => !processGone(pid);

// The servers of the replication scenario: a step's server (step 06, each
// with a scratch data folder, on port 0) or a real redis-server (no
// persistence, a scratch folder, a free port: redis-server cannot take port
// 0), as a primary or as a replica of HOST:PORT. The scenario sends them
// SIGKILL, SIGSTOP and SIGCONT; stop() always ends them (a stopped process is
// continued first) with every process they started, and says which of those
// it had to kill.

export const HAVE_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0;

export type NodeKind = { kind: 'server'; file: string; args: string[] } | { kind: 'redis' };

export interface ReplicationNode {
  host: string;
  port: number;
  pid: number;
  /** SIGKILL, SIGSTOP or SIGCONT, to the server process itself. */
  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void;
  /** Resolves once the process is gone. */
  readonly exited: Promise<void>;
  /** Its log (stderr for ours, stdout for redis-server), the last 64 kB. */
  log(): string;
  /** Ends it and whatever it started; returns the pids that had to be killed after it was gone. */
  stop(): Promise<number[]>;
}

/** Starts a primary (replicaOf null) or a replica of host:port. */
export async function startNode(what: NodeKind, replicaOf: { host: string; port: number } | null): Promise<ReplicationNode> {
  return what.kind === 'redis' ? startRedisServer(replicaOf) : startStepServer(what.file, what.args, replicaOf);
}

async function startStepServer(file: string, args: string[], replicaOf: { host: string; port: number } | null): Promise<ReplicationNode> {
  // One worker process and one pool thread unless told otherwise: the lesson is the same, and
  // four servers share a small machine in a run.
  const defaults = [...(args.includes('--workers') ? [] : ['--workers', '1']), ...(args.includes('--threads') ? [] : ['--threads', '1'])];
  const server = await launchServer(file, {
    args: ['--quiet', ...defaults, ...args, ...(replicaOf ? ['--replicaof', `${replicaOf.host} ${replicaOf.port}`] : [])],
  });
  return wrap(server.child, server.host, server.port, server.log, () => server.stop().then(() => {}), server.exited.then(() => {}));
}

async function startRedisServer(replicaOf: { host: string; port: number } | null): Promise<ReplicationNode> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'kv-repl-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    // A full sync starts at once (Redis 7 waits 5 s for more replicas to share a diskless one).
    '--repl-diskless-sync-delay', '0',
    ...(replicaOf ? ['--replicaof', replicaOf.host, String(replicaOf.port)] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let failed: Error | null = null;
  child.once('error', (caught) => { failed = caught; });
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-64 * 1024); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const killAtExit = () => child.kill('SIGKILL');
  process.once('exit', killAtExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    process.off('exit', killAtExit);
    rmSync(dir, { recursive: true, force: true });
    resolve();
  }));
  await waitFor(() => output.includes('Ready to accept connections') || child.exitCode !== null || failed !== null, 'redis-server to start', 10_000, () => output);
  if (failed !== null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot start redis-server (${(failed as Error).message}): on Debian, apt-get install redis-server`);
  }
  if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) before it was ready:\n${output}`);
  return wrap(child, '127.0.0.1', port, () => output, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
  }, exited);
}

function wrap(child: ChildProcess, host: string, port: number, log: () => string, end: () => Promise<void>, exited: Promise<void>): ReplicationNode {
  const pid = child.pid!;
  // Its descendants (our worker processes), remembered while it lives: once it is SIGKILLed,
  // they are no longer under it in /proc.
  const family = new Set(processTree(pid).filter((p) => p !== pid));
  const remember = () => { for (const p of processTree(pid)) if (p !== pid) family.add(p); };
  let stopped = false;
  return {
    host, port, pid, exited, log,
    signal(signal) {
      if (signal === 'SIGKILL') remember();
      stopped = signal === 'SIGSTOP';
      process.kill(pid, signal);
    },
    async stop() {
      remember();
      if (stopped && isAlive(pid)) process.kill(pid, 'SIGCONT');
      await end();
      // A worker process ends when its parent is gone, a moment later: wait for that, then kill what is left.
      const deadline = Date.now() + 5000;
      while ([...family].some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const leftovers = [...family].filter(isAlive);
      for (const p of leftovers) {
        try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      }
      return leftovers;
    },
  };
}


/**
 * Waits until `condition` holds (checked every 10 ms), failing after `limitMs` with `what`;
 * a check that does not answer (a server that stopped replying) fails the same way.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, limitMs = 20_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + limitMs;
  const failure = () => new Error(`timed out after ${limitMs} ms waiting for ${what}${detail ? `:\n${detail().slice(-2000)}` : ''}`);
  while (!(await within(Promise.resolve(condition()), Math.max(deadline - Date.now(), 1), what).catch(() => { throw failure(); }))) {
    if (Date.now() > deadline) throw failure();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`, or an error saying `what` did not come within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** One field of INFO replication (ours and Redis's have the same names). */
export async function replicationInfo(connection: Connection, field: string): Promise<string | undefined> {
  const reply = await connection.send('INFO', 'replication');
  if (reply.type !== 'bulk' || reply.value === null) return undefined;
  return new RegExp(`^${field}:(.*?)\\r?$`, 'm').exec(reply.value.toString())?.[1];
}
