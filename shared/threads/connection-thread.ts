import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { PersistTask } from '../persistence/task.ts';
import { sharedKeyVersions } from '../commands/key-versions.ts';
import { peerOf, type Peer } from '../server/client-state.ts';
import { log } from '../server/log.ts';
import { bundle } from './bundle.ts';

// One connection served by its own Worker thread (steps 02 to 05).
//
// A net.Socket cannot be handed to a Worker (it is not transferable: a
// DataCloneError), so the work is split:
//
//   main thread                            connection thread (the step's thread.ts,
//   owns the socket                        through thread-session.ts): a Session
//   'data' -> postMessage(bytes)  ------>  session.receive(bytes), on the shared store
//   socket.write(reply)          <------  postMessage({ bytes, close, tasks })
//
// The main thread only moves bytes, so it stays free to accept connections
// and to move other clients' bytes while a thread computes. What this costs:
// a copy and a message each way per read, and a Worker per connection
// ([about 14 MB](docs/figures.md#thread-cost-memory) and
// [about 170 ms](docs/figures.md#thread-cost-start) to start). The thread's
// code (the step's thread.ts) is compiled once, when the step's server loads,
// into plain JavaScript that needs no tsx (threadFile() below, bundle.ts: with
// tsx inside, each thread would cost about twice the memory and start-up
// time, and a second, hidden loader thread).
//
// The main thread must never block (no Atomics.wait, no lock here): while it
// waits, no message from any thread is delivered.
//
// ENDING. Whoever ends first, both sides end, and the thread always ends by
// itself, between two commands - never killed in the middle of one, which
// could leave the store's lock held forever (or, in steps 04-05, a sequence
// number taken and its task never sent: the sequencer would wait for it
// forever):
//   - the client closes, or its socket fails: we post `null`; the thread
//     answers what it was sent before, then exits;
//   - QUIT or a fatal protocol error: the reply says `close`; we end the socket;
//   - the thread fails: we destroy the socket.
// `onClosed` runs once the thread has exited and every reply is written: only
// then is its memory free and its place under the connection limit available
// again.
//
// BACKPRESSURE. Two queues could grow without bound: bytes sent to a thread
// that is busy (a client pipelining while WORK runs), and replies to a
// client that never reads them. We stop reading from the socket while more
// than MAX_IN_FLIGHT_BYTES are waiting for the thread, or while the socket
// cannot take more replies; the client's requests then wait in the kernel,
// and TCP makes the client slow down.
//
// PERSISTENCE (steps 04 and 05). With `sequence` set, the thread records
// each write as a persistence task (numbered while the lock is held: see
// recording-store.ts) and sends the chunk's tasks with its replies. The
// main thread hands them to `beforeReply` at once, and writes the replies
// only when the promise it returns resolves (the persister accepted the
// tasks, or with --durable wrote them): the reply is HELD. While a reply is
// held, the socket is not read - backpressure from the queue reaches the
// client - and later replies wait behind it, so they stay in request order.

/** What each connection thread is given (as workerData). */
export interface ConnectionThreadData {
  /** The store every thread shares: SharedStore.create(...).buffer. */
  storeBuffer: SharedArrayBuffer;
  /**
   * The lock every command runs under, as INFO shows it: 'none' (step 02),
   * or the kind the step's thread.ts takes (steps 03-05: 'mutex' or 'rw').
   */
  lock: string;
  /**
   * How long a command sleeps between its check and its act (the magnifying
   * glass, --race-window-ms of steps 02-03). Absent in a step without that
   * option (04, 05): no window, and INFO shows no race_window_ms.
   */
  raceWindowMs?: number;
  /** CPU every command burns, in ms (--work-ms). */
  workMs: number;
  /** For INFO. */
  step: string;
  maxConnections: number;
  /** Word 0: open connections, kept up to date by the main thread (for INFO). */
  counters: Int32Array;
  /**
   * Steps 04-05: record every write as a persistence task, numbered from this
   * counter that all threads share (newSequence() in recording-store.ts).
   */
  sequence?: BigInt64Array;
  /** More figures for INFO, kept up to date by the main thread (steps 04-05: the queue's). */
  figures?: InfoFigures;
}

/** What serveOnThread adds to a step's ConnectionThreadData for every thread. */
export interface ThreadWorkerData extends ConnectionThreadData {
  /** The key versions of WATCH, one table for every thread (sharedKeyVersions()). */
  versionsBuffer: SharedArrayBuffer;
  /** The client's and our address, for CLIENT INFO. */
  peer: Peer;
}

/** Named numbers in shared memory: INFO shows `names[i]: values[i]`. */
export interface InfoFigures {
  names: readonly string[];
  values: Int32Array;
}

/** What serveOnThread may do besides moving bytes. */
export interface ServeOptions {
  /**
   * Called with each chunk's persistence tasks (none without `sequence`), in
   * the order the thread sent them, as soon as they arrive. The chunk's reply
   * is written once the promise resolves; null means "reply now".
   */
  beforeReply?: (tasks: readonly PersistTask[]) => Promise<void> | null;
}

/** Main thread -> connection thread: bytes from the socket, or null (the end). */
export type ToThread = Uint8Array | null;

/** Connection thread -> main thread: the replies to one chunk. */
export interface FromThread {
  bytes: Uint8Array | null;
  /** QUIT or a fatal protocol error: close once the bytes are sent. */
  close: boolean;
  /** How many bytes of input this answers (for the in-flight count). */
  consumed: number;
  /** The writes of this chunk (empty unless the thread records them). */
  tasks: readonly PersistTask[];
}

/** Stop reading from a client while this many of its bytes wait for its thread. */
export const MAX_IN_FLIGHT_BYTES = 256 * 1024;

/**
 * A step's thread file (its thread.ts, which calls serveThisConnection()),
 * compiled to one plain JavaScript file for serveOnThread. Call it once, at
 * start-up, before the server listens: `threadFile(new URL('./thread.ts', import.meta.url))`.
 */
export function threadFile(entry: URL): string {
  return bundle(entry);
}

export interface ThreadConnection {
  /** The thread's id (as in INFO's thread_id). */
  readonly threadId: number;
  /**
   * Stops reading from the client and lets the thread answer what it was
   * given (a graceful shutdown). Resolves once every reply is written, the
   * thread has exited and `onClosed` has run.
   */
  finish(): Promise<void>;
}

/**
 * Serves `socket` on a new Worker thread that runs `file` (from threadFile()). `onClosed` runs once, after both the
 * socket and the thread are gone and every reply is written. Create the server
 * with `{ allowHalfOpen: true }`: a client may finish sending before its
 * replies have come back from the thread, and they must still reach it.
 */
export function serveOnThread(
  file: string,
  socket: Socket,
  data: ConnectionThreadData,
  onClosed: () => void,
  { beforeReply }: ServeOptions = {},
): ThreadConnection {
  const workerData: ThreadWorkerData = { ...data, versionsBuffer: sharedKeyVersions().buffer, peer: peerOf(socket) };
  const thread = new Worker(file, { workerData });
  let inFlight = 0; // bytes posted to the thread and not answered yet
  let blockedOnWrite = false; // the socket's write buffer is full
  let held = 0; // replies waiting for beforeReply
  let lastHeld: Promise<void> = Promise.resolve(); // the last of them
  let ended = false; // we told the thread to finish
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));

  socket.setNoDelay(true); // replies are small: send each at once

  socket.on('data', (chunk: Buffer) => {
    // An exact copy that we can move to the thread without copying again.
    const bytes = new Uint8Array(chunk);
    inFlight += bytes.byteLength;
    thread.postMessage(bytes satisfies ToThread, [bytes.buffer]);
    if (inFlight > MAX_IN_FLIGHT_BYTES) socket.pause();
  });
  socket.on('end', () => endThread()); // the client sent everything it will send
  socket.on('close', () => endThread());
  socket.on('error', () => socket.destroy()); // the client vanished; 'close' follows
  socket.on('drain', () => {
    blockedOnWrite = false;
    readOnIfPossible();
  });

  thread.on('message', (message: FromThread) => {
    inFlight -= message.consumed;
    // Hand the tasks over now, in the order they came: the sequencer needs
    // every number, whatever happens to the replies.
    const accepted = beforeReply?.(message.tasks) ?? null;
    if (accepted === null && held === 0) {
      reply(message); // the usual case: nothing to wait for
      return;
    }
    // Hold the reply until its tasks are accepted, and behind any reply
    // still held before it. Meanwhile, read nothing more from this client.
    held++;
    socket.pause();
    lastHeld = lastHeld.then(() => accepted).then(() => {
      held--;
      reply(message);
    });
  });
  thread.on('error', (caught) => {
    log(`connection thread ${thread.threadId} failed: ${caught.stack ?? caught}`);
    socket.destroy();
  });
  thread.once('exit', () => {
    // Every message arrived before 'exit'; the replies still held go out
    // first. Replies already written still go out; then the socket closes.
    void lastHeld.then(() => {
      if (!socket.destroyed) socket.end();
      onClosed();
      closed();
    });
  });

  function reply({ bytes, close }: FromThread): void {
    if (bytes !== null && socket.writable) {
      if (!socket.write(bytes)) blockedOnWrite = true;
    }
    if (close) {
      socket.end(); // after the bytes just written
      endThread();
    }
    readOnIfPossible();
  }

  function readOnIfPossible(): void {
    if (!ended && !blockedOnWrite && held === 0 && inFlight <= MAX_IN_FLIGHT_BYTES && socket.isPaused()) socket.resume();
  }

  function endThread(): void {
    if (ended) return;
    ended = true;
    socket.pause();
    thread.postMessage(null satisfies ToThread); // after every chunk already posted
  }

  return {
    threadId: thread.threadId,
    finish() {
      endThread();
      return whenClosed;
    },
  };
}
