import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundle } from '../threads/bundle.ts';
import type { LogFigures, RewritePolicy } from './log-rewrite.ts';
import type { BatchMessage, WorkerMessage } from './log-worker.ts';
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

/**
 * A batch larger than this goes to the worker process in pieces of this size,
 * the next one once the last is in the channel (see transmit()): serializing
 * a 100 MB value for the channel in one turn held every other client up for
 * as long (issue 16).
 */
export const PIECE_BYTES = 1024 * 1024;

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
  /** A batch is going out in pieces: later ones wait in `waiting`, in order. */
  private sendingPieces = false;
  private waiting: Array<() => void> = [];

  constructor(child: Started, readonly file: string) {
    this.attach(child);
  }

  attach({ child, log }: Started): void {
    this.child = child;
    this.log = log;
    // A dead process's half-sent batch and those waiting behind it are in
    // `pending`: the persister sends them all again to this one.
    this.sendingPieces = false;
    this.waiting = [];
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // Sending to a process that just died emits 'error'; its 'exit' handles it.
    child.on('error', () => {});
  }

  /**
   * Sends the batch `message` with `parts` (its records, one after the other)
   * to the worker process; `done` runs once all of it is in the channel (the
   * kernel has it), or with an error if it never will be. Batches reach the
   * channel in the order they were given. One larger than PIECE_BYTES goes as
   * `piece` messages of at most that size, the next once the last is in the
   * channel, and then the batch with the rest of its bytes; the worker
   * process appends the pieces and the rest together when the batch itself
   * arrives, so its log never holds part of a record.
   */
  transmit(message: Omit<BatchMessage, 'bytes'>, parts: readonly Uint8Array[], done: (failed: Error | null) => void): void {
    if (this.sendingPieces) {
      this.waiting.push(() => this.transmit(message, parts, done));
      return;
    }
    const { child } = this;
    const pieces = inPieces(parts);
    if (pieces.length === 1) {
      child.send({ ...message, bytes: joined(pieces[0]!) }, undefined, undefined, done);
      return;
    }
    this.sendingPieces = true;
    let next = 0;
    const sendNext = (failed: Error | null) => {
      if (child !== this.child) return done(failed ?? new Error('its worker process was replaced'));
      if (failed) {
        // The process is dying: its 'exit' hands everything pending to the next one.
        this.sendingPieces = false;
        return done(failed);
      }
      const bytes = joined(pieces[next++]!);
      if (next < pieces.length) {
        child.send({ type: 'piece', id: message.id, bytes }, undefined, undefined, sendNext);
        return;
      }
      child.send({ ...message, bytes }, undefined, undefined, done);
      this.sendingPieces = false;
      const waiting = this.waiting;
      this.waiting = [];
      for (const send of waiting) send(); // behind the batch in the channel, in order
    };
    sendNext(null);
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
  /** Environment variables to add to the server's for the worker process (step 06: glibc's malloc settings). */
  env?: Record<string, string>;
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
    env: { ...process.env, ...options.env },
    // 'advanced' serialization sends Buffers as bytes (JSON would turn
    // each byte into a number in a text array).
    serialization: 'advanced',
    // stderr is shared with the server: a worker's errors show in its log.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<Started>((resolve, reject) => {
    // Its first message is 'ready'.
    child.once('message', (ready: Extract<WorkerMessage, { type: 'ready' }>) => resolve({ child, log: ready.log }));
    child.once('exit', (code) => reject(new Error(`log worker exited (code ${code}) before it was ready`)));
  });
}

/** `parts` cut (a part over PIECE_BYTES) and grouped (small ones) into pieces of at most PIECE_BYTES. */
function inPieces(parts: readonly Uint8Array[]): Uint8Array[][] {
  const pieces: Uint8Array[][] = [[]];
  let size = 0;
  for (const part of parts) {
    for (let at = 0; at < part.length; at += PIECE_BYTES) {
      // (A part that fits goes as it is: a view of each record costs the usual batch an allocation per write.)
      const slice = part.length <= PIECE_BYTES ? part : part.subarray(at, at + PIECE_BYTES);
      if (size + slice.length > PIECE_BYTES) {
        pieces.push([]);
        size = 0;
      }
      pieces.at(-1)!.push(slice);
      size += slice.length;
    }
  }
  return pieces;
}

/** The bytes of one piece: its one part as it is (a view, no copy), or several copied together. */
function joined(piece: Uint8Array[]): Uint8Array {
  return piece.length === 1 ? piece[0]! : Buffer.concat(piece);
}
