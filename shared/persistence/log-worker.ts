// A worker process: appends persistence tasks to one log file.
//
// The server starts it with child_process.fork (see worker-process.ts); they talk
// only by messages over the IPC channel that fork sets up - no shared memory
// at all between processes. Usage (done by the server, not by hand):
//
//   fork('log-worker.ts', [LOG_FILE, TASK_CPU_MS, SERVER_PID, REWRITE_POLICY_JSON], { serialization: 'advanced' })
//
// Messages in:   { type: 'batch', id, count, bytes, sync }
//                  bytes: `count` log records, one after the other
//                  sync:  fsync before acknowledging (--durable)
//                { type: 'piece', id, bytes }  the first bytes of batch `id`,
//                  sent before it when it is large (worker-process.ts's
//                  transmit); appended with the batch when it arrives
//                { type: 'rewrite' }  rewrite the log now (BGREWRITEAOF)
// Messages out:  { type: 'ready', log }  once the log is open
//                { type: 'ack', id, size } once the batch is written (and synced)
//                  size: the log's bytes now (only that changes with a batch)
//                { type: 'figures', log }  a rewrite started or ended
//                  log: the log's figures (size, rewrites: log-rewrite.ts)
//
// The log may be several files, rewritten while the worker serves (step 06,
// log-rewrite.ts); the worker only appends and says when.
//
// HOW IT ENDS. There is no "stop" message. The worker lives exactly as long as
// its IPC channel: when the channel closes it flushes the log to disk and
// exits. The server closes the channel on purpose at shutdown, after the
// queue is drained; and if the server dies any other way - a crash, or
// SIGKILL, which no process can catch - the operating system closes the
// channel for it. Either way the worker sees 'disconnect' and goes: no
// orphans (the seed's workers outlived a killed server).
//
// OWNERSHIP. Before it opens the log, the worker writes its claim on the data
// directory (ownership.ts), and withdraws it only after its last write: while
// it drains after its server died, a new server sees the claim and waits.

import path from 'node:path';
import { RewritableLog, type LogFigures, type RewritePolicy } from './log-rewrite.ts';
import { claimAsWorker } from './ownership.ts';
import { IdleCompaction } from '../server/idle-compaction.ts';

export interface BatchMessage {
  type: 'batch';
  id: number;
  count: number;
  bytes: Uint8Array;
  sync: boolean;
}
export interface PieceMessage {
  type: 'piece';
  id: number;
  bytes: Uint8Array;
}
export type ToWorker = BatchMessage | PieceMessage | { type: 'rewrite' };
export type WorkerMessage =
  | { type: 'ready'; log: LogFigures }
  | { type: 'ack'; id: number; size: number }
  | { type: 'figures'; log: LogFigures };

const [file, cpuArg, serverArg, policyArg] = process.argv.slice(2);
if (file === undefined || serverArg === undefined || process.send === undefined) {
  console.error('log-worker: run by the server (child_process.fork), with a log file, task CPU and server pid');
  process.exit(2);
}
const taskCpuMs = Number(cpuArg ?? 0);
const claim = claimAsWorker(path.dirname(file), Number(serverArg));
if (claim === null) {
  console.error(`log worker ${process.pid}: its server ${serverArg} ended before it started: not writing`);
  process.exit(3);
}

const policy: RewritePolicy = policyArg ? JSON.parse(policyArg) : { percentage: 0, minSize: 0 };
// What idle compaction watches (shared/server/idle-compaction.ts): the
// messages received, plus every look while a rewrite runs (a rewrite is
// work, and can go on for seconds after the last batch).
let work = 0;
let rewriting = false;
const log = new RewritableLog(path.dirname(file), path.basename(file), policy, (figures) => {
  rewriting = figures.aof_rewrite_in_progress === 1;
  reply({ type: 'figures', log: figures });
});
// Once idle after work, a full garbage collection, the rewrite's buffers
// given back first: a worker process's RSS comes back down after a load.
new IdleCompaction(() => (rewriting ? ++work : work), { release: () => log.releaseBuffers() });

// The pieces of the batch on its way (all of one batch: the server sends
// nothing else between a batch's pieces and the batch).
let pieces: Uint8Array[] = [];

process.on('message', (message: ToWorker) => {
  if (message.type === 'rewrite') {
    log.rewrite();
    return;
  }
  work++;
  if (message.type === 'piece') {
    pieces.push(message.bytes);
    return;
  }
  // The "real work" a task could need before it is stored (compressing,
  // checksumming, ...), simulated with --task-cpu-ms.
  if (taskCpuMs > 0) burnCpuTime(taskCpuMs * message.count);
  // One write for the whole batch (a large one: one per piece, all in this
  // turn, before the ack): the records reach the kernel together.
  for (const piece of pieces) log.append(piece);
  pieces = [];
  log.append(message.bytes);
  // A write is in the kernel's page cache: it survives this process dying,
  // not the machine losing power. fdatasync waits until it is on the disk.
  if (message.sync) log.sync();
  // (Just the size, the one figure a batch changes: the whole figures with
  // every ack were an object of seven fields for the server to decode.)
  reply({ type: 'ack', id: message.id, size: log.currentSize() });
  log.rewriteIfGrown(); // between two batches: see log-rewrite.ts
});

process.on('disconnect', () => {
  void log.close().then(() => {
    claim.release(); // the last write is done: the folder is free of us
    process.exit(0);
  });
});

// Ctrl+C in a terminal sends SIGINT to every process of the group, so to us
// too. We must not die before the server has drained its queue into us: the
// server decides when we stop (by closing the channel), signals do not.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

reply({ type: 'ready', log: log.current() });
log.rewriteIfGrown(); // a log that grew past the policy while no one rewrote it

/**
 * Computes until this process has used `ms` of CPU time. CPU time, not
 * elapsed time: when more processes want the cores than there are cores, a
 * descheduled worker does not count the time it waited as work done, so
 * adding workers beyond the cores shows no false speedup.
 */
function burnCpuTime(ms: number): void {
  const end = cpuMs() + ms;
  let x = 0;
  while (cpuMs() < end) for (let i = 0; i < 1000; i++) x = (x * 31 + i) | 0;
  if (x === 42) console.error(''); // keeps the loop from being optimized away
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function reply(message: WorkerMessage): void {
  // The server may be gone already (SIGKILL): then the send fails with EPIPE.
  // That must not kill us before we have written what we received.
  if (process.connected) process.send!(message, undefined, undefined, () => {});
}
