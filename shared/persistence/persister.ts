import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../threads/bundle.ts';
import { BoundedQueue } from './bounded-queue.ts';
import { lastSeqWritten, type LogFigures, type RewritePolicy } from './log-rewrite.ts';
import type { ToWorker, WorkerMessage } from './log-worker.ts';
import { Sequencer } from './sequencer.ts';
import type { PersistTask } from './task.ts';

// The main thread's side of persistence: from tasks handed in by connection
// threads to records acknowledged by worker processes.
//
//   submit(tasks) -> Sequencer -> BoundedQueue -> dispatch -> worker 0 -> log
//                   (apply order) (backpressure)  (batches)  -> worker 1 -> log
//
// - The sequencer restores the order in which writes were applied.
// - The queue bounds how much waits; `submit` resolves once the tasks are in
//   it (or, with `durable`, once a worker has written and fsynced them).
// - Dispatch sends batches: at most one IPC message per worker per turn of
//   the event loop, with all the tasks ready by then, and at most
//   MAX_IN_FLIGHT unacknowledged batches per worker. Batching is what lets
//   tens of thousands of writes per second through: a message costs about the
//   same whether it carries 1 record or 500. And with --durable, one fsync
//   covers a whole batch ("group commit").
//
// Dispatch, with several workers:
// - 'free': each batch goes to the least busy worker, and all workers append
//   to one shared log. Fast, but two writes to one key can reach the log out
//   of order (the worker holding the older one may still be busy when the
//   other finishes): step 05's hazard.
// - 'by-key': a task goes to worker hash(key) mod N, which has a log of its
//   own. One key's writes then travel one FIFO path, in order.
//
// SUPERVISION (`supervise`, step 06). A worker process that dies (a crash, a
// SIGKILL) is restarted on its own log, and the batches it had not
// acknowledged are sent again. Nothing acknowledged to a client is lost: a
// task leaves the persister's memory only once its worker acknowledged it.
// The dead worker may have written part of its batches before it died, so
// before the restart the persister works out, from the highest sequence
// number whole in the log, which records are already written (they are not
// sent twice), and cuts off a record that was half written. That needs a log
// per worker: by-key dispatch, or a single worker.
//
// LOG REWRITE (`rewrite`, step 06): each worker process rewrites its own log
// to the live data as it grows (log-rewrite.ts); `rewrite()` asks them all at
// once (BGREWRITEAOF), and stats() shows their figures with Redis's names.

export type Dispatch = 'free' | 'by-key';

export interface PersisterOptions {
  /** Folder of the log files (created if missing). */
  dataDir: string;
  /** Worker processes (1 in step 04). */
  workers: number;
  dispatch: Dispatch;
  /** The queue's bound, in tasks. */
  capacity: number;
  /** Acknowledge a task only after it is fsynced. */
  durable: boolean;
  /** CPU each task costs its worker, in ms (simulated work). */
  taskCpuMs: number;
  /** The first sequence number the connection threads will use. */
  firstSeq: number;
  /** Most tasks in one IPC message. */
  maxBatch?: number;
  /**
   * Wait this long (ms) before sending what was submitted, so that more
   * tasks share one IPC message. 0 (the default): the next turn of the event
   * loop. Without `durable` no reply waits for the send, so a few ms cost the
   * clients nothing and save the workers (and the main thread) thousands of
   * messages per second; step 06 uses 10.
   */
  batchDelayMs?: number;
  /** A worker process ended while the server was not shutting down. */
  onWorkerExit?: (index: number, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Restart a worker that dies and resend its unacknowledged tasks (see SUPERVISION). */
  supervise?: boolean;
  /**
   * Run each worker process from a plain-JavaScript bundle of log-worker.ts
   * instead of through tsx's loader: about 35 MB less memory per process
   * (see shared/threads/bundle.ts). Step 06 does.
   */
  bundled?: boolean;
  /** Node.js options for each worker process (step 06: a small young generation). */
  execArgv?: string[];
  /** A supervised worker was replaced: its new pid, and how many tasks were sent again. */
  onWorkerRestart?: (index: number, pid: number, resent: number) => void;
  /** When each worker rewrites its log by itself (needs a log per worker); none by default. */
  rewrite?: RewritePolicy;
}

export interface PersisterStats {
  /** Tasks in the queue or in a worker's hands, not yet acknowledged (what the bound counts). */
  queue_depth: number;
  /**
   * Of those, the tasks still in the server's memory (queued, or being
   * handed to the IPC channel): a SIGKILL of the server loses these.
   */
  tasks_in_server: number;
  /**
   * The rest: in a worker process's channel or hands. Its worker writes them
   * even if the server dies (it reads its channel to the end).
   */
  tasks_in_workers: number;
  queue_capacity: number;
  /** Tasks whose producers wait for room in the queue. */
  queue_blocked: number;
  /** Tasks that arrived before a smaller sequence number. */
  sequencer_holding: number;
  /** Tasks written by the workers since start. */
  tasks_written: number;
  /** IPC messages sent to the workers since start. */
  batches_sent: number;
  /** Deepest the queue has been. */
  queue_depth_max: number;
  /** Worker processes restarted after they died (supervision). */
  worker_restarts: number;
  /** The logs' figures (log-rewrite.ts), over every worker: sums, the worst status, the longest time. */
  aof_rewrites: number;
  aof_current_size: number;
  aof_base_size: number;
  aof_last_bgrewrite_status: string;
  aof_last_rewrite_time_sec: number;
  aof_rewrite_in_progress: number;
}

/** The log files of a layout: one shared log, or one log per worker (by-key). */
export function logFileNames(workers: number, dispatch: Dispatch): string[] {
  if (workers === 1 || dispatch === 'free') return ['log.aof'];
  return Array.from({ length: workers }, (_, i) => `log-${i}-of-${workers}.aof`);
}

const MAX_IN_FLIGHT = 2; // batches per worker: one being written, one on its way
const WORKER_FILE = fileURLToPath(new URL('./log-worker.ts', import.meta.url));
// The child process must load TypeScript too: give it tsx's loader by its
// full path, so that it does not depend on the current directory.
const TSX_LOADER = import.meta.resolve('tsx');

interface Entry {
  seq: number;
  task: PersistTask;
  ticket: Ticket;
}
/**
 * The tasks of one offer(): settled once all of them are accepted (or, with
 * durable, written). A class rather than an object with a closure: one is
 * made per write, and a closure per write costs (tsx names every one).
 */
class Ticket {
  settledAtOnce = false;
  private resolveLater: (() => void) | null = null;

  constructor(public remaining: number) {}

  resolve(): void {
    if (this.resolveLater) this.resolveLater();
    else this.settledAtOnce = true;
  }

  /** A promise for a ticket that was not settled at once. */
  promise(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolveLater = resolve;
    });
  }
}

class WorkerHandle {
  inFlight = 0;
  outbox: Entry[] = []; // by-key: tasks routed here, not sent yet
  readonly pending = new Map<number, Entry[]>();
  /** Batches of `pending` that reached the channel (the kernel has them). */
  readonly delivered = new Set<number>();
  /** Their tasks. */
  deliveredTasks = 0;
  exited!: Promise<void>;
  child!: ChildProcess;
  /** False from its process's death until its replacement is ready. */
  alive = true;
  restarts = 0;
  /** Its log's figures, as of its last message. */
  log!: LogFigures;

  constructor(child: Started, readonly file: string) {
    this.attach(child);
  }

  attach({ child, log }: Started): void {
    this.child = child;
    this.log = log;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // Sending to a process that just died emits 'error'; its 'exit' handles it.
    child.on('error', () => {});
  }
}

interface Started {
  child: ChildProcess;
  log: LogFigures;
}

/** Forks one log worker on `file` and resolves once it has its log open. */
function forkLogWorker(file: string, options: PersisterOptions): Promise<Started> {
  const bundled = options.bundled ? bundle(WORKER_FILE) : undefined;
  const policy = JSON.stringify(options.rewrite ?? { percentage: 0, minSize: 0 });
  const child = fork(bundled ?? WORKER_FILE, [file, String(options.taskCpuMs), String(process.pid), policy], {
    execArgv: [...(options.execArgv ?? []), ...(bundled ? [] : ['--import', TSX_LOADER])],
    // 'advanced' serialization sends Buffers as bytes (JSON would turn
    // each byte into a number in a text array).
    serialization: 'advanced',
    // stderr is shared with the server: a worker's errors show in its log.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<Started>((resolve, reject) => {
    // Its first message is 'ready'.
    child.once('message', (ready: WorkerMessage) => resolve({ child, log: ready.log }));
    child.once('exit', (code) => reject(new Error(`log worker exited (code ${code}) before it was ready`)));
  });
}

export class Persister {
  private readonly queue: BoundedQueue<Entry>;
  private readonly sequencer: Sequencer<Entry>;
  private readonly handles: WorkerHandle[];
  private readonly maxBatch: number;
  private nextBatchId = 0;
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private written = 0;
  private batches = 0;
  private depthMax = 0;
  private released: Entry[] = [];

  /** Forks the worker processes and resolves once each has its log open. */
  static async start(options: PersisterOptions): Promise<Persister> {
    mkdirSync(options.dataDir, { recursive: true });
    const files = logFileNames(options.workers, options.dispatch);
    if (options.supervise && files.length !== options.workers) {
      throw new Error('supervise needs a log per worker (by-key dispatch, or one worker)');
    }
    const paths = Array.from({ length: options.workers }, (_, i) => path.join(options.dataDir, files[i % files.length]!));
    const children = await Promise.all(paths.map((file) => forkLogWorker(file, options)));
    return new Persister(options, children, paths);
  }

  private restarts = 0;

  private constructor(
    private readonly options: PersisterOptions,
    children: Started[],
    paths: string[],
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.queue = new BoundedQueue<Entry>(options.capacity, () => this.scheduleFlush());
    this.sequencer = new Sequencer<Entry>(options.firstSeq, (entry) => this.released.push(entry));
    this.handles = children.map((child, index) => {
      const handle = new WorkerHandle(child, paths[index]!);
      this.watch(handle, index);
      return handle;
    });
  }

  private watch(handle: WorkerHandle, index: number): void {
    const child = handle.child;
    child.on('message', (message: WorkerMessage) => {
      handle.log = message.log;
      if (message.type === 'ack') this.acknowledged(handle, message.id);
    });
    child.once('exit', (code, signal) => {
      if (this.closing) return;
      this.options.onWorkerExit?.(index, code, signal);
      if (this.options.supervise) void this.restart(handle, index);
    });
  }

  /**
   * Supervision: replaces a dead worker. Its unacknowledged batches are
   * still here (in `pending`); those records the dead process managed to
   * write whole are counted as written, a half-written one is cut off the
   * log, and the rest go to the new process before anything newer.
   */
  private async restart(handle: WorkerHandle, index: number): Promise<void> {
    handle.alive = false;
    handle.restarts++;
    this.restarts++;
    const unacked = [...handle.pending.keys()].sort((a, b) => a - b).flatMap((id) => handle.pending.get(id)!);
    handle.pending.clear();
    handle.delivered.clear();
    handle.deliveredTasks = 0;
    handle.inFlight = 0;
    // The dead process wrote `unacked` in order, up to some record: those
    // with a number up to the last whole one in its log are written.
    const lastSeq = lastSeqWritten(path.dirname(handle.file), path.basename(handle.file));
    let whole = 0;
    while (whole < unacked.length && unacked[whole]!.seq <= lastSeq) whole++;
    this.finished(unacked.slice(0, whole));
    handle.outbox = [...unacked.slice(whole), ...handle.outbox];
    for (let attempt = 0; ; attempt++) {
      try {
        handle.attach(await forkLogWorker(handle.file, this.options));
        break;
      } catch (caught) {
        // It died before it was ready: try again, a little later each time.
        process.stderr.write(`log worker ${index} failed to restart: ${(caught as Error).message}\n`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 10 * 2 ** attempt)));
      }
    }
    this.watch(handle, index);
    handle.alive = true;
    this.options.onWorkerRestart?.(index, handle.child.pid!, unacked.length - whole);
    this.scheduleFlush();
  }

  /**
   * Hands over the tasks of one message from a connection thread. Resolves
   * once they are all admitted to the queue - or, with `durable`, once they
   * are all written and fsynced. While the queue is full it stays pending:
   * the caller holds the client's reply meanwhile (backpressure).
   */
  submit(tasks: readonly PersistTask[]): Promise<void> {
    return this.offer(tasks) ?? Promise.resolve();
  }

  /**
   * The same as `submit`, but returns null when the tasks were accepted at
   * once - the usual case without `durable`, when the queue has room. Then
   * the caller can reply right away, without waiting for a promise: on a busy
   * server that saves a few microseconds per write.
   */
  offer(tasks: readonly PersistTask[]): Promise<void> | null {
    if (tasks.length === 0) return null;
    const ticket = new Ticket(tasks.length);
    for (const task of tasks) this.sequencer.accept({ seq: task.seq, task, ticket });
    // Whatever the sequencer let through (these tasks, and perhaps others'
    // that waited for them) goes into the queue, in order: as one group if it
    // fits, else in groups of at most the capacity, admitted one after
    // another. (The queue would admit an oversized group whole once empty;
    // several threads' tasks released together must not break the bound.)
    const released = this.released;
    this.released = [];
    const capacity = this.queue.capacity;
    for (let start = 0; start < released.length; start += capacity) {
      const group = released.length <= capacity ? released : released.slice(start, start + capacity);
      if (!this.options.durable && this.queue.tryPut(group)) {
        for (const entry of group) countDown(entry.ticket);
      } else {
        const admitted = this.queue.put(group);
        if (!this.options.durable) void admitted.then(() => { for (const entry of group) countDown(entry.ticket); });
      }
    }
    this.depthMax = Math.max(this.depthMax, this.queue.depth);
    return ticket.settledAtOnce ? null : ticket.promise();
  }

  stats(): PersisterStats {
    const inWorkers = this.handles.reduce((sum, handle) => sum + handle.deliveredTasks, 0);
    return {
      queue_depth: this.queue.depth,
      tasks_in_server: this.queue.depth - inWorkers,
      tasks_in_workers: inWorkers,
      queue_capacity: this.queue.capacity,
      queue_blocked: this.queue.blocked,
      sequencer_holding: this.sequencer.holding,
      tasks_written: this.written,
      batches_sent: this.batches,
      queue_depth_max: this.depthMax,
      worker_restarts: this.restarts,
      ...logFigures(this.handles.map((handle) => handle.log)),
    };
  }

  /**
   * BGREWRITEAOF: every worker rewrites its log now; one that is rewriting
   * already does it again after (log-rewrite.ts). Redis's reply text.
   */
  rewrite(): string {
    const message: ToWorker = { type: 'rewrite' };
    for (const handle of this.handles) if (handle.alive && handle.child.connected) handle.child.send(message);
    return this.handles.some((handle) => handle.log.aof_rewrite_in_progress)
      ? 'Background append only file rewriting scheduled'
      : 'Background append only file rewriting started';
  }

  /** The worker processes' ids (tests check that none outlives the server). */
  workerPids(): number[] {
    return this.handles.map((handle) => handle.child.pid!);
  }

  /** Each worker process: its pid now, how often it was restarted, whether it runs (for INFO). */
  workerProcesses(): Array<{ pid: number; restarts: number; alive: boolean }> {
    return this.handles.map((handle) => ({ pid: handle.child.pid!, restarts: handle.restarts, alive: handle.alive }));
  }

  /**
   * Graceful end: waits until every task submitted so far is written, then
   * closes each worker's channel (the worker fsyncs its log and exits) and
   * waits for the processes to end.
   */
  async close(): Promise<void> {
    await this.queue.idle();
    this.closing = true;
    for (const handle of this.handles) if (handle.child.connected) handle.child.disconnect();
    await Promise.all(this.handles.map((handle) => handle.exited));
  }

  private scheduleFlush(): void {
    // A full batch, or tasks already routed to a worker that can take them,
    // are worth sending at once; a smaller batch may wait batchDelayMs for
    // company. (Without the first rule, a flood of pipelined writes would be
    // held to a few batches per delay.)
    // (Called for every offer: the usual case, a send already due on the
    // next turn, returns at the first line.)
    if (this.flushScheduled && this.flushTimer === null) return;
    const fullBatchReady = this.queue.ready >= this.maxBatch || this.handles.some(canSendNow);
    if (this.flushScheduled && !fullBatchReady) return; // the timer will send it
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushScheduled = true;
    // Not now: let this turn of the event loop hand in more tasks first, so
    // they travel together in one message.
    const flush = () => {
      this.flushScheduled = false;
      this.flushTimer = null;
      this.flush();
    };
    if (this.options.batchDelayMs && !fullBatchReady) this.flushTimer = setTimeout(flush, this.options.batchDelayMs);
    else setImmediate(flush);
  }

  private flush(): void {
    const n = this.handles.length;
    if (this.options.dispatch === 'by-key' && n > 1) {
      // Route every ready task to its key's worker.
      for (const entry of this.queue.take(this.queue.ready)) {
        this.handles[entry.task.keyHash % n]!.outbox.push(entry);
      }
      for (const handle of this.handles) {
        while (handle.alive && handle.inFlight < MAX_IN_FLIGHT && handle.outbox.length > 0) {
          this.send(handle, handle.outbox.splice(0, this.maxBatch));
        }
      }
      return;
    }
    if (n === 1) {
      // One worker. If it was restarted, what it left unfinished (in its
      // outbox) goes first; while it restarts, tasks wait in the queue.
      const only = this.handles[0]!;
      if (!only.alive) return;
      while (only.inFlight < MAX_IN_FLIGHT && only.outbox.length > 0) this.send(only, only.outbox.splice(0, this.maxBatch));
    }
    // Free dispatch: the next batch goes to whichever worker is least busy.
    while (this.queue.ready > 0) {
      const handle = this.handles.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      if (handle.inFlight >= MAX_IN_FLIGHT) return; // all busy: the acks will call us again
      this.send(handle, this.queue.take(this.maxBatch));
    }
  }

  private send(handle: WorkerHandle, batch: Entry[]): void {
    const id = this.nextBatchId++;
    handle.pending.set(id, batch);
    handle.inFlight++;
    this.batches++;
    const message: ToWorker = {
      type: 'batch',
      id,
      count: batch.length,
      bytes: Buffer.concat(batch.map((entry) => entry.task.record)),
      sync: this.options.durable,
    };
    // The callback runs once the message is in the channel (the kernel's
    // socket buffer): from then on, the worker gets it even if we die.
    handle.child.send(message, undefined, undefined, (failed) => {
      if (failed || !handle.pending.has(id)) return;
      handle.delivered.add(id);
      handle.deliveredTasks += batch.length;
    });
  }

  private acknowledged(handle: WorkerHandle, id: number): void {
    const batch = handle.pending.get(id);
    if (batch === undefined) return;
    handle.pending.delete(id);
    if (handle.delivered.delete(id)) handle.deliveredTasks -= batch.length;
    handle.inFlight--;
    this.finished(batch);
    this.scheduleFlush();
  }

  /** Tasks now in their log: count them, free their room in the queue. */
  private finished(batch: Entry[]): void {
    if (batch.length === 0) return;
    this.written += batch.length;
    if (this.options.durable) for (const entry of batch) countDown(entry.ticket);
    this.queue.done(batch.length); // frees room: waiting producers go in
  }
}

/** The figures of several logs as one (Redis has one log; we have one per worker). */
function logFigures(logs: LogFigures[]): Pick<PersisterStats, keyof LogFigures> {
  const statuses = logs.map((log) => log.aof_last_bgrewrite_status);
  return {
    aof_rewrites: logs.reduce((sum, log) => sum + log.aof_rewrites, 0),
    aof_current_size: logs.reduce((sum, log) => sum + log.aof_current_size, 0),
    aof_base_size: logs.reduce((sum, log) => sum + log.aof_base_size, 0),
    aof_last_bgrewrite_status: statuses.includes('err') ? 'err' : 'ok',
    aof_last_rewrite_time_sec: Math.max(...logs.map((log) => log.aof_last_rewrite_time_sec)),
    aof_rewrite_in_progress: logs.some((log) => log.aof_rewrite_in_progress) ? 1 : 0,
  };
}

function canSendNow(handle: WorkerHandle): boolean {
  return handle.outbox.length > 0 && handle.inFlight < MAX_IN_FLIGHT;
}

function countDown(ticket: Ticket): void {
  if (--ticket.remaining === 0) ticket.resolve();
}
