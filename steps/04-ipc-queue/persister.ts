import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { OptionSpec } from '../../shared/cli/options.ts';
import { BoundedQueue } from '../../shared/persistence/bounded-queue.ts';
import { OWNERSHIP_OPTIONS } from '../../shared/persistence/ownership.ts';
import type { LogFigures, RewritePolicy } from '../../shared/persistence/log-rewrite.ts';
import type { ToWorker, WorkerMessage } from '../../shared/persistence/log-worker.ts';
import { Sequencer } from '../../shared/persistence/sequencer.ts';
import { recordParts, type PersistTask } from '../../shared/persistence/task.ts';
import {
  MAX_IN_FLIGHT, WorkerProcess, countDown, forkLogWorker, Ticket, type Entry, type Started,
} from '../../shared/persistence/worker-process.ts';

// Step 04's lesson, the main thread's side of persistence: from the tasks a
// connection thread hands in with its replies to records a worker process
// has written and acknowledged.
//
//   offer(tasks) -> Sequencer -> BoundedQueue -> send a batch -> worker process -> log
//                  (apply order) (backpressure)   (over IPC)      (append, ack)
//
// - The sequencer restores the order in which writes were applied.
// - The queue bounds how much waits; `offer` resolves once the tasks are in
//   it (or, with `durable`, once the worker has written and fsynced them).
// - Batches: at most one IPC message per turn of the event loop, with all the
//   tasks ready by then, and at most MAX_IN_FLIGHT unacknowledged batches per
//   worker process. Batching is what lets tens of thousands of writes per
//   second through: a message costs about the same whether it carries 1
//   record or 500. And with --durable, one fsync covers a whole batch
//   ("group commit").
// - The ack: a task leaves the queue (its room freed) only once its worker
//   process acknowledged it (acknowledged(), below).
//
// Step 04 has one worker process (ONE_WORKER). Step 05 brings several, and a
// Dispatch that chooses which one takes each batch
// (steps/05-workers/dispatch/); step 06 a Supervisor that restarts a worker
// process that died (steps/06-worker-pool/supervisor.ts).

/** The options of a server that persists through this (steps 04 and 05; each adds its --data-dir). */
export const PERSISTENCE_OPTIONS = {
  durable: { type: 'boolean', default: false, help: 'reply to a write only once it is fsynced' },
  queueCapacity: { type: 'number', default: 10_000, min: 1, help: 'most persistence tasks waiting' },
  taskCpuMs: { type: 'number', default: 0, min: 0, max: 1000, help: 'CPU each task costs the worker, in ms' },
  ...OWNERSHIP_OPTIONS,
} as const satisfies Record<string, OptionSpec>;

export interface PersisterOptions {
  /** Folder of the log files (created if missing). */
  dataDir: string;
  /** Worker processes (1 in step 04). */
  workers: number;
  /** Which worker process takes which tasks: ONE_WORKER in step 04 (step 05: by-key or free). */
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
   * messages per second; step 06 uses 10 (a replica 50: setBatchDelay()).
   */
  batchDelayMs?: number;
  /** A worker process ended while the server was not shutting down. */
  onWorkerExit?: (index: number, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Step 06: restart a worker process that dies (steps/06-worker-pool/supervisor.ts). */
  supervisor?: Supervisor;
  /**
   * Run each worker process from a plain-JavaScript bundle of log-worker.ts
   * instead of through tsx's loader: about 35 MB less memory per process
   * (see shared/threads/bundle.ts). Step 06 does.
   */
  bundled?: boolean;
  /** Node.js options for each worker process (step 06: a small young generation). */
  execArgv?: string[];
  /** Environment variables added for each worker process (step 06: glibc's malloc settings). */
  env?: Record<string, string>;
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
  /** How long a send waits for more tasks now, in ms (batchDelayMs; step 06's INFO). */
  batch_delay_ms: number;
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
  aof_rewrite_scheduled: number;
}

export class Persister {
  private readonly queue: BoundedQueue<Entry>;
  private readonly sequencer: Sequencer<Entry>;
  private readonly workers: WorkerProcess[];
  private readonly maxBatch: number;
  private readonly dispatchContext: DispatchContext;
  private nextBatchId = 0;
  private batchDelayMs: number;
  private flushScheduled = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private written = 0;
  private batches = 0;
  private depthMax = 0;
  private restarts = 0;
  private released: Entry[] = [];

  /** Forks the worker processes and resolves once each has its log open. */
  static async start(options: PersisterOptions): Promise<Persister> {
    mkdirSync(options.dataDir, { recursive: true });
    const files = options.dispatch.logFiles(options.workers);
    options.supervisor?.check(options.workers, files);
    const paths = Array.from({ length: options.workers }, (_, i) => path.join(options.dataDir, files[i % files.length]!));
    const children = await Promise.all(paths.map((file) => forkLogWorker(file, options)));
    return new Persister(options, children, paths);
  }

  private constructor(
    readonly options: PersisterOptions,
    children: Started[],
    paths: string[],
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.batchDelayMs = options.batchDelayMs ?? 0;
    this.queue = new BoundedQueue<Entry>(options.capacity, () => this.scheduleFlush());
    this.sequencer = new Sequencer<Entry>(options.firstSeq, (entry) => this.released.push(entry));
    this.workers = children.map((child, index) => {
      const worker = new WorkerProcess(child, paths[index]!);
      this.watch(worker, index);
      return worker;
    });
    this.dispatchContext = {
      queue: this.queue, workers: this.workers, maxBatch: this.maxBatch,
      send: (worker, batch) => this.send(worker, batch),
    };
  }

  private watch(worker: WorkerProcess, index: number): void {
    const child = worker.child;
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ack') {
        worker.log.aof_current_size = message.size;
        this.acknowledged(worker, message.id);
      } else {
        worker.log = message.log;
      }
    });
    child.once('exit', (code, signal) => {
      if (this.closing) return;
      this.options.onWorkerExit?.(index, code, signal);
      this.options.supervisor?.workerDied(this, index);
    });
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
    const inWorkers = this.workers.reduce((sum, worker) => sum + worker.deliveredTasks, 0);
    return {
      queue_depth: this.queue.depth,
      tasks_in_server: this.queue.depth - inWorkers,
      tasks_in_workers: inWorkers,
      queue_capacity: this.queue.capacity,
      queue_blocked: this.queue.blocked,
      sequencer_holding: this.sequencer.holding,
      tasks_written: this.written,
      batches_sent: this.batches,
      batch_delay_ms: this.batchDelayMs,
      queue_depth_max: this.depthMax,
      worker_restarts: this.restarts,
      ...logFigures(this.workers.map((worker) => worker.log)),
    };
  }

  /**
   * BGREWRITEAOF: every worker rewrites its log now; one that is rewriting
   * already does it again after (log-rewrite.ts). Redis's reply text.
   */
  rewrite(): string {
    const message: ToWorker = { type: 'rewrite' };
    for (const worker of this.workers) if (worker.alive && worker.child.connected) worker.child.send(message);
    return this.workers.some((worker) => worker.log.aof_rewrite_in_progress)
      ? 'Background append only file rewriting scheduled'
      : 'Background append only file rewriting started';
  }

  /** The worker processes' ids (tests check that none outlives the server). */
  workerPids(): number[] {
    return this.workers.map((worker) => worker.child.pid!);
  }

  /** Each worker process: its pid now, how often it was restarted, whether it runs (for INFO). */
  workerProcesses(): Array<{ pid: number; restarts: number; alive: boolean }> {
    return this.workers.map((worker) => ({ pid: worker.child.pid!, restarts: worker.restarts, alive: worker.alive }));
  }

  /**
   * Graceful end: waits until every task submitted so far is written, then
   * closes each worker's channel (the worker fsyncs its log and exits) and
   * waits for the processes to end.
   */
  async close(): Promise<void> {
    await this.queue.idle();
    this.closing = true;
    for (const worker of this.workers) if (worker.child.connected) worker.child.disconnect();
    await Promise.all(this.workers.map((worker) => worker.exited));
  }

  // ------------------------------------------------ for a Supervisor (step 06)

  /**
   * Worker process `index` died: it takes no batch until replaced. Returns
   * the tasks it had not acknowledged, oldest first (they are still here:
   * nothing leaves before its ack), and its log file.
   */
  takeFromDead(index: number): { unacknowledged: Entry[]; file: string } {
    const worker = this.workers[index]!;
    worker.alive = false;
    worker.restarts++;
    this.restarts++;
    const unacknowledged = [...worker.pending.keys()].sort((a, b) => a - b).flatMap((id) => worker.pending.get(id)!);
    worker.pending.clear();
    worker.delivered.clear();
    worker.deliveredTasks = 0;
    worker.inFlight = 0;
    return { unacknowledged, file: worker.file };
  }

  /** Starts a worker process on `file`, as the others were started. */
  fork(file: string): Promise<Started> {
    return forkLogWorker(file, this.options);
  }

  /**
   * Of dead worker `index`'s unacknowledged tasks, `written` are in its log
   * already (counted as written now, their room freed), and `resend` go to
   * its replacement before anything newer.
   */
  requeue(index: number, written: Entry[], resend: Entry[]): void {
    const worker = this.workers[index]!;
    this.finished(written);
    worker.outbox = [...resend, ...worker.outbox];
  }

  /** Puts the worker process `started` in place of dead worker `index`, and sends it what waits. */
  replace(index: number, started: Started): void {
    const worker = this.workers[index]!;
    worker.attach(started);
    this.watch(worker, index);
    worker.alive = true;
    this.scheduleFlush();
  }

  /**
   * Changes batchDelayMs from the next send on (step 06: a replica gathers
   * longer than a primary, and goes back to the primary's delay when
   * promoted).
   */
  setBatchDelay(ms: number): void {
    this.batchDelayMs = ms;
  }

  // ------------------------------------------------ sending and the ack

  private scheduleFlush(): void {
    // A full batch, or tasks already routed to a worker that can take them,
    // are worth sending at once; a smaller batch may wait batchDelayMs for
    // company. (Without the first rule, a flood of pipelined writes would be
    // held to a few batches per delay.)
    // (Called for every offer: the usual case, a send already due on the
    // next turn, returns at the first line.)
    if (this.flushScheduled && this.flushTimer === null) return;
    const fullBatchReady = this.queue.ready >= this.maxBatch || this.workers.some((worker) => worker.canSendNow());
    if (this.flushScheduled && !fullBatchReady) return; // the timer will send it
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushScheduled = true;
    // Not now: let this turn of the event loop hand in more tasks first, so
    // they travel together in one message.
    const flush = () => {
      this.flushScheduled = false;
      this.flushTimer = null;
      this.options.dispatch.flush(this.dispatchContext);
    };
    if (this.batchDelayMs > 0 && !fullBatchReady) this.flushTimer = setTimeout(flush, this.batchDelayMs);
    else setImmediate(flush);
  }

  private send(worker: WorkerProcess, batch: Entry[]): void {
    const id = this.nextBatchId++;
    worker.pending.set(id, batch);
    worker.inFlight++;
    this.batches++;
    const message = { type: 'batch' as const, id, count: batch.length, sync: this.options.durable };
    // The callback runs once the message is in the channel (the kernel's
    // socket buffer): from then on, the worker gets it even if we die. The
    // records go as they are: a big SET's value is not copied into one
    // buffer with the others (its task refers to it: task.ts's setTask), and
    // a batch over a megabyte goes in pieces, one per turn of the event loop
    // (WorkerProcess.transmit), so a 100 MB value does not hold every other
    // client up while it is serialized for the channel. The worker process
    // writes the pieces only with the batch's last message, before its ack.
    const parts: Uint8Array[] = [];
    for (const entry of batch) {
      if (entry.task.value === undefined) parts.push(entry.task.record); // the usual record, without an array of its own
      else parts.push(...recordParts(entry.task));
    }
    worker.transmit(message, parts, (failed) => {
      if (failed || !worker.pending.has(id)) return;
      worker.delivered.add(id);
      worker.deliveredTasks += batch.length;
    });
  }

  /** THE ACK: the worker process wrote batch `id` (and with durable, fsynced it). */
  private acknowledged(worker: WorkerProcess, id: number): void {
    const batch = worker.pending.get(id);
    if (batch === undefined) return;
    worker.pending.delete(id);
    if (worker.delivered.delete(id)) worker.deliveredTasks -= batch.length;
    worker.inFlight--;
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

/**
 * Step 04: one worker process, one log. What it left unfinished before it
 * was restarted (its outbox, step 06) goes first; while it restarts, tasks
 * wait in the queue.
 */
export const ONE_WORKER: Dispatch = {
  name: 'one',
  logFiles: () => ['log.aof'],
  flush({ queue, workers, maxBatch, send }) {
    const only = workers[0]!;
    if (!only.alive) return;
    while (only.canSendNow()) send(only, only.outbox.splice(0, maxBatch));
    while (queue.ready > 0 && only.inFlight < MAX_IN_FLIGHT) send(only, queue.take(maxBatch));
  },
};

// ------------------------------------------------ what steps 05 and 06 plug in

/** What a Dispatch may use to send what is ready. */
export interface DispatchContext {
  /** The tasks in order; `queue.ready` of them not sent yet. */
  readonly queue: BoundedQueue<Entry>;
  readonly workers: readonly WorkerProcess[];
  /** Most tasks in one batch. */
  readonly maxBatch: number;
  /** Sends `batch` to `worker` as one IPC message. */
  send(worker: WorkerProcess, batch: Entry[]): void;
}

/** How batches reach the worker processes: which takes which tasks, and into which log. */
export interface Dispatch {
  readonly name: string;
  /** The log files of `workers` worker processes, worker i writing to files[i % files.length]. */
  logFiles(workers: number): string[];
  /** Sends what is ready (called after each offer and each ack); a worker with MAX_IN_FLIGHT batches takes no more. */
  flush(context: DispatchContext): void;
}

/** What step 06 plugs in to replace a worker process that died. */
export interface Supervisor {
  /** Throws if it cannot supervise this layout (it needs a log per worker process). */
  check(workers: number, logFiles: readonly string[]): void;
  /** Worker process `index` died while the server runs; `persister` gives what a restart needs. */
  workerDied(persister: Persister, index: number): void;
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
    aof_rewrite_scheduled: logs.some((log) => log.aof_rewrite_scheduled) ? 1 : 0,
  };
}
