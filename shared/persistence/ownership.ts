import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OptionSpec } from '../cli/options.ts';
import { processGone } from './process-gone.ts';
import { bootId, cpuTicks, startTicks } from '../os/proc.ts';

// OWNERSHIP of a data directory, across processes: at most one server, with
// its own worker processes, writes into a data directory at any time.
//
// Why it is needed. A server's log is written by its worker processes, and a
// worker outlives a server killed with SIGKILL: it goes on appending what it
// had already received (for seconds, with --task-cpu-ms 5), then exits. A new
// server started on the folder meanwhile would replay a partial log and
// append to the same file as the old worker: the old worker's late records
// land after the new server's, and replay then undoes an acknowledged write.
//
// The protocol: "raise your flag, then look" (the idea of Peterson's and
// Dekker's locks, with files instead of shared variables). Every process that
// writes into the folder has a CLAIM there, `.owners/<pid>.claim`, naming
// itself: pid, start time, boot, role, and its server's pid.
//
//   server:  1. write its claim   2. read every other claim
//            3. none is live: the folder is its own; it replays and starts
//               a claim of a running server is live: withdraw, refuse (exit 2)
//               only worker processes of ended servers: wait for them (bounded)
//   worker:  1. write its claim   2. check its server is still its parent
//            (if the server died in between, withdraw and exit unwritten)
//
// Why this excludes two owners: a process writes its claim before it looks,
// so of two servers starting together, the one that looks later sees the
// other's claim (both may see each other and both refuse: safe, if unlucky).
// A worker claims before it opens its log and while its server provably
// lives, so a server that starts later sees the worker's claim even after the
// old server is gone: the DRAINING WORKER IS THE REAL HOLDER, and the new
// server waits for it, then replays the complete log.
//
// Stale claims. A SIGKILLed process cannot withdraw its claim. A claim is
// live only if its pid runs, is no zombie, and has the same start time (from
// /proc/PID/stat) and boot id as recorded: a pid reused by an unrelated
// process, or a claim from before a reboot, is stale. Whoever finds a stale
// claim deletes it (deleting a dead process's claim is safe: it can never
// come back). Without /proc (not Linux) only the pid is checked.
//
// Waiting or refusing. A server that finds only worker processes of ended
// servers waits for them and says so: they are finishing acknowledged
// writes, and waiting is what lets the new server replay them. The wait is
// bounded by progress: it gives up (exit code 2, the holder's pid) once they
// used no CPU and their logs did not grow for --owner-wait-s. A running server will not go away
// by itself: the newcomer refuses at once, with exit code 2 and its pid.

export type Role = 'server' | 'log-worker';

export interface Holder {
  pid: number;
  role: Role;
  /** The server a log worker writes for (its own pid for a server). */
  serverPid: number;
  /** Field 22 of /proc/PID/stat when the claim was written (null without /proc). */
  startTime: string | null;
  bootId: string | null;
}

/** A claim written by this process. */
export interface Claim {
  readonly file: string;
  /** Withdraws the claim (also done when this process exits). */
  release(): void;
}

/** The folder cannot be owned now: another server runs on it, or waiting took too long. */
export class DataDirInUseError extends Error {}

/** The option every server with a data directory has. */
export const OWNERSHIP_OPTIONS = {
  ownerWaitS: {
    type: 'number', default: 30, min: 0, max: 3600,
    help: 'wait for worker processes of an ended server that still write into --data-dir; give up once they made no progress for this long (s)',
  },
} as const satisfies Record<string, OptionSpec>;

const OWNERS = '.owners';

/** Writes this process's claim on `dataDir` (the flag; not yet a right to write). */
export function writeClaim(dataDir: string, role: Role, serverPid: number): Claim {
  const dir = path.join(dataDir, OWNERS);
  mkdirSync(dir, { recursive: true });
  const me: Holder = { pid: process.pid, role, serverPid, startTime: startTicks(process.pid), bootId: bootId() };
  const file = path.join(dir, `${process.pid}.claim`);
  // A file left by a dead process with our pid is stale by definition: overwrite it.
  writeFileSync(file, JSON.stringify(me) + '\n');
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    rmSync(file, { force: true });
  };
  process.once('exit', release);
  return { file, release };
}

/**
 * The live claims on `dataDir` other than this process's. Stale ones (their
 * process is gone, or its pid now belongs to another process) are deleted.
 */
export function otherLiveHolders(dataDir: string): Holder[] {
  const dir = path.join(dataDir, OWNERS);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: Holder[] = [];
  for (const name of names) {
    if (!name.endsWith('.claim') || name === `${process.pid}.claim`) continue;
    const file = path.join(dir, name);
    let holder: Holder;
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as Holder;
    } catch {
      continue; // withdrawn meanwhile, or being written: look again next time
    }
    if (isLive(holder)) live.push(holder);
    else rmSync(file, { force: true });
  }
  return live;
}

/** True while the process of `holder` runs (not a later process with its pid). */
export function isLive(holder: Holder): boolean {
  if (processGone(holder.pid)) return false;
  const now = startTicks(holder.pid);
  if (holder.startTime !== null && now !== null && now !== holder.startTime) return false; // pid reused
  if (holder.bootId !== null && bootId() !== null && bootId() !== holder.bootId) return false;
  return true;
}

/**
 * A server takes ownership of `dataDir` before it reads or writes anything in
 * it. Resolves with its claim once no other process writes there; waits for
 * worker processes of ended servers while they make progress (saying so
 * through `log`); rejects with DataDirInUseError, having withdrawn its claim,
 * when a running server holds the folder or the holders made no progress
 * (no CPU used, no log growth) for `waitS`.
 */
export async function ownDataDir(dataDir: string, waitS: number, log: (line: string) => void): Promise<Claim> {
  const claim = writeClaim(dataDir, 'server', process.pid);
  // The wait is bounded by progress: it goes on while the holders work (use
  // CPU, or their logs grow), and ends once they did neither for waitS. A
  // dead server's worker has a bounded backlog, so it always ends; one that
  // is stopped (SIGSTOP) or stuck makes no progress.
  let progress = '';
  let idleSince = Date.now();
  let saidAt = 0;
  for (;;) {
    const others = otherLiveHolders(dataDir);
    if (others.length === 0) {
      if (saidAt > 0) log(`the data directory ${dataDir} is free now: starting`);
      return claim;
    }
    // A live server claim: a running server (or one waiting, as we do).
    const running = others.find((holder) => holder.role === 'server');
    if (running) {
      claim.release();
      throw new DataDirInUseError(
        `${dataDir} is in use by ${describe(running)}. ` +
          'Stop that server first, or start this one with another --data-dir.');
    }
    const now = Date.now();
    const progressNow = `${logBytes(dataDir)} ${others.map((holder) => cpuTicks(holder.pid)).join(' ')}`;
    if (progressNow !== progress) {
      progress = progressNow;
      idleSince = now;
    }
    if (now - idleSince >= waitS * 1000) {
      claim.release();
      throw new DataDirInUseError(
        `${dataDir} is still in use by ${others.map(describe).join(', ')}, which made no progress for ${waitS} s. ` +
          'Find out why (is it stopped?), or kill it (what it has not written is lost) and start again.');
    }
    if (now - saidAt >= 5000) {
      log(`waiting for ${others.map(describe).join(', ')} to finish writing into ${dataDir}: ` +
        'it received those writes before its server ended');
      saidAt = now;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Bytes in the .aof files of `dataDir`: one sign of the holders' progress. */
function logBytes(dataDir: string): number {
  let total = 0;
  for (const name of readdirSync(dataDir)) {
    if (!name.endsWith('.aof')) continue;
    try {
      total += statSync(path.join(dataDir, name)).size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}

/** ownDataDir for a starting server: a folder in use ends the program with its message and exit code 2. */
export async function ownDataDirAtStartup(dataDir: string, waitS: number, log: (line: string) => void): Promise<Claim> {
  try {
    return await ownDataDir(dataDir, waitS, log);
  } catch (caught) {
    if (!(caught instanceof DataDirInUseError)) throw caught;
    console.error(`error: ${caught.message}`);
    process.exit(2);
  }
}

/**
 * A log worker's claim, written before it opens its log. Returns null (and
 * withdraws it) if `serverPid` is no longer its parent: the server died
 * before the claim was in place, so a newer server may own the folder now.
 */
export function claimAsWorker(dataDir: string, serverPid: number): Claim | null {
  const claim = writeClaim(dataDir, 'log-worker', serverPid);
  if (process.ppid === serverPid) return claim; // the server lived after the claim was written
  claim.release();
  return null;
}

function describe(holder: Holder): string {
  if (holder.role === 'server') return `the server with pid ${holder.pid}`;
  const server = processGone(holder.serverPid) ? `of server ${holder.serverPid}, which has ended` : `of the server with pid ${holder.serverPid}`;
  return `the log worker process with pid ${holder.pid} (${server})`;
}
