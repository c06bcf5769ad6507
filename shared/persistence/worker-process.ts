import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundle } from '../threads/bundle.ts';
import type { LogFigures, RewritePolicy } from './log-rewrite.ts';
import type { WorkerMessage } from './log-worker.ts';
import type { PersistTask } from './task.ts';

// One log worker process as the server sees it (steps 04 to 06): the child
// process that runs log-worker.ts on one log file, and the batches sent to it
// that it has not acknowledged yet.
//
// CONTRACT. A batch stays in `pending` from the moment it is sent until the
// worker process acknowledges it: a task leaves the server's memory only
// once it is in the log. `delivered` says which of the pending batches
// reached the channel (the kernel has them: the worker writes them even if
// the server dies). `outbox` holds tasks routed to this worker and not sent
// yet (by-key dispatch, and a restarted worker's unfinished tasks). The
// persister (steps/04-ipc-queue/persister.ts) keeps all these fields; a
// dispatch strategy reads `alive`, `inFlight` and `outbox`.

/** Batches per worker process at the most: one being written, one on its way. */
export const MAX_IN_FLIGHT = 2;

/** One task in the server: its sequence number, its record, and the offer() it came with. */
export interface Entry {
  seq: number;
  task: PersistTask;
  ticket: Ticket;
}

/**
 * The tasks of one offer(): settled once all of them are accepted (or, with
 * durable, written). A class rather than an object with a closure: one is
 * made per write, and a closure per write costs (tsx names every one).
 */
export class Ticket {
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

/** One task of `ticket` is done; the last one settles it. */
export function countDown(ticket: Ticket): void {
  if (--ticket.remaining === 0) ticket.resolve();
}

/** A forked log worker, ready: its process and its log's figures. */
export interface Started {
  child: ChildProcess;
  log: LogFigures;
}

export class WorkerProcess {
  inFlight = 0;
  outbox: Entry[] = [];
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

  /** Whether it could take a batch from its outbox now. */
  canSendNow(): boolean {
    return this.outbox.length > 0 && this.inFlight < MAX_IN_FLIGHT;
  }
}

/** How a log worker process is started. */
export interface ForkOptions {
  /** CPU each task costs the worker, in ms (simulated work). */
  taskCpuMs: number;
  /** Run it from a plain-JavaScript bundle instead of through tsx (shared/threads/bundle.ts). */
  bundled?: boolean;
  /** When it rewrites its log by itself; never by default. */
  rewrite?: RewritePolicy;
  /** Node.js options for the worker process (step 06: a small young generation). */
  execArgv?: string[];
}

const WORKER_FILE = fileURLToPath(new URL('./log-worker.ts', import.meta.url));
// The child process must load TypeScript too: give it tsx's loader by its
// full path, so that it does not depend on the current directory.
const TSX_LOADER = import.meta.resolve('tsx');

/** Forks one log worker process on `file` and resolves once it has its log open. */
export function forkLogWorker(file: string, options: ForkOptions): Promise<Started> {
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
