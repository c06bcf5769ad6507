import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BoundedQueue } from './bounded-queue.ts';
import type { BatchMessage, WorkerMessage } from './log-worker.ts';
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
  /** A worker process ended while the server was not shutting down. */
  onWorkerExit?: (index: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface PersisterStats {
  /** Tasks in the queue or in a worker's hands, not yet acknowledged. */
  queue_depth: number;
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
interface Ticket {
  remaining: number;
  resolve: () => void;
}

class WorkerHandle {
  inFlight = 0;
  readonly outbox: Entry[] = []; // by-key: tasks routed here, not sent yet
  readonly pending = new Map<number, Entry[]>();
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }
}

export class Persister {
  private readonly queue: BoundedQueue<Entry>;
  private readonly sequencer: Sequencer<Entry>;
  private readonly handles: WorkerHandle[];
  private readonly maxBatch: number;
  private nextBatchId = 0;
  private flushScheduled = false;
  private closing = false;
  private written = 0;
  private batches = 0;
  private depthMax = 0;
  private released: Entry[] = [];

  /** Forks the worker processes and resolves once each has its log open. */
  static async start(options: PersisterOptions): Promise<Persister> {
    mkdirSync(options.dataDir, { recursive: true });
    const files = logFileNames(options.workers, options.dispatch);
    const children = Array.from({ length: options.workers }, (_, i) =>
      fork(WORKER_FILE, [path.join(options.dataDir, files[i % files.length]!), String(options.taskCpuMs)], {
        execArgv: ['--import', TSX_LOADER],
        // 'advanced' serialization sends Buffers as bytes (JSON would turn
        // each byte into a number in a text array).
        serialization: 'advanced',
        // stderr is shared with the server: a worker's errors show in its log.
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(children.map((child) => new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve()); // its first message is 'ready'
      child.once('exit', (code) => reject(new Error(`log worker exited (code ${code}) before it was ready`)));
    })));
    return new Persister(options, children);
  }

  private constructor(
    private readonly options: PersisterOptions,
    children: ChildProcess[],
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.queue = new BoundedQueue<Entry>(options.capacity, () => this.scheduleFlush());
    this.sequencer = new Sequencer<Entry>(options.firstSeq, (entry) => this.released.push(entry));
    this.handles = children.map((child, index) => {
      const handle = new WorkerHandle(child);
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ack') this.acknowledged(handle, message.id);
      });
      child.once('exit', (code, signal) => {
        if (!this.closing) options.onWorkerExit?.(index, code, signal);
      });
      return handle;
    });
  }

  /**
   * Hands over the tasks of one message from a connection thread. Resolves
   * once they are all admitted to the queue - or, with `durable`, once they
   * are all written and fsynced. While the queue is full it stays pending:
   * the caller holds the client's reply meanwhile (backpressure).
   */
  submit(tasks: PersistTask[]): Promise<void> {
    if (tasks.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const ticket: Ticket = { remaining: tasks.length, resolve };
      for (const task of tasks) this.sequencer.accept({ seq: task.seq, task, ticket });
      // Whatever the sequencer let through (these tasks, and perhaps others'
      // that waited for them) goes into the queue as one group, in order.
      const group = this.released;
      this.released = [];
      const admitted = this.queue.put(group);
      if (!this.options.durable) void admitted.then(() => { for (const entry of group) countDown(entry.ticket); });
      this.depthMax = Math.max(this.depthMax, this.queue.depth);
    });
  }

  stats(): PersisterStats {
    return {
      queue_depth: this.queue.depth,
      queue_capacity: this.queue.capacity,
      queue_blocked: this.queue.blocked,
      sequencer_holding: this.sequencer.holding,
      tasks_written: this.written,
      batches_sent: this.batches,
      queue_depth_max: this.depthMax,
    };
  }

  /** The worker processes' ids (tests check that none outlives the server). */
  workerPids(): number[] {
    return this.handles.map((handle) => handle.child.pid!);
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
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Not now: let this turn of the event loop hand in more tasks first, so
    // they travel together in one message.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const n = this.handles.length;
    if (this.options.dispatch === 'by-key' && n > 1) {
      // Route every ready task to its key's worker.
      for (const entry of this.queue.take(this.queue.ready)) {
        this.handles[entry.task.keyHash % n]!.outbox.push(entry);
      }
      for (const handle of this.handles) {
        while (handle.inFlight < MAX_IN_FLIGHT && handle.outbox.length > 0) {
          this.send(handle, handle.outbox.splice(0, this.maxBatch));
        }
      }
      return;
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
    const message: BatchMessage = {
      type: 'batch',
      id,
      count: batch.length,
      bytes: Buffer.concat(batch.map((entry) => entry.task.record)),
      sync: this.options.durable,
    };
    handle.child.send(message);
  }

  private acknowledged(handle: WorkerHandle, id: number): void {
    const batch = handle.pending.get(id);
    if (batch === undefined) return;
    handle.pending.delete(id);
    handle.inFlight--;
    this.written += batch.length;
    if (this.options.durable) for (const entry of batch) countDown(entry.ticket);
    this.queue.done(batch.length); // frees room: waiting producers go in
    this.scheduleFlush();
  }
}

function countDown(ticket: Ticket): void {
  if (--ticket.remaining === 0) ticket.resolve();
}
