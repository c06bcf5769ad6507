import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { LockKind } from '../locks/guard.ts';
import { log } from '../server/log.ts';
import { bundle } from './bundle.ts';

// One connection served by its own Worker thread (steps 02 and 03).
//
// A net.Socket cannot be handed to a Worker (it is not transferable: a
// DataCloneError), so the work is split:
//
//   main thread                            connection thread (connection-worker.ts)
//   owns the socket                        owns the Session: parser, commands
//   'data' -> postMessage(bytes)  ------>  session.receive(bytes), on the shared store
//   socket.write(reply)          <------  postMessage({ bytes, close })
//
// The main thread only moves bytes, so it stays free to accept connections
// and to move other clients' bytes while a thread computes. What this costs:
// a copy and a message each way per read, and a Worker per connection (about
// 14 MB and 100 ms or more to start; see the step 02 README). The thread's
// code is compiled once, when this module loads, into plain JavaScript that
// needs no tsx (bundle.ts: with tsx inside, each thread would cost about
// twice the memory and start-up time, and a second, hidden loader thread).
//
// The main thread must never block (no Atomics.wait, no lock here): while it
// waits, no message from any thread is delivered.
//
// ENDING. Whoever ends first, both sides end, and the thread always ends by
// itself, between two commands - never killed in the middle of one, which
// could leave the store's lock held forever:
//   - the client closes, or its socket fails: we post `null`; the thread
//     answers what it was sent before, then exits;
//   - QUIT or a fatal protocol error: the reply says `close`; we end the socket;
//   - the thread fails: we destroy the socket.
// `onClosed` runs once the thread has exited: only then is its memory free
// and its place under the connection limit available again.
//
// BACKPRESSURE. Two queues could grow without bound: bytes sent to a thread
// that is busy (a client pipelining while WORK runs), and replies to a
// client that never reads them. We stop reading from the socket while more
// than MAX_IN_FLIGHT_BYTES are waiting for the thread, or while the socket
// cannot take more replies; the client's requests then wait in the kernel,
// and TCP makes the client slow down.

/** What each connection thread is given (as workerData). */
export interface ConnectionThreadData {
  /** The store every thread shares: SharedStore.create(...).buffer. */
  storeBuffer: SharedArrayBuffer;
  /** 'none' (step 02) or the lock every command runs under (step 03). */
  lock: LockKind;
  /** How long a command sleeps between its check and its act (the magnifying glass). */
  raceWindowMs: number;
  /** CPU every command burns, in ms (--work-ms). */
  workMs: number;
  /** For INFO. */
  step: string;
  maxConnections: number;
  /** Word 0: open connections, kept up to date by the main thread (for INFO). */
  counters: Int32Array;
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
}

/** Stop reading from a client while this many of its bytes wait for its thread. */
export const MAX_IN_FLIGHT_BYTES = 256 * 1024;

// Compiled when the server imports this module, before it listens.
const CONNECTION_WORKER = bundle(new URL('./connection-worker.ts', import.meta.url));

export interface ThreadConnection {
  /** The thread's id (as in INFO's thread_id). */
  readonly threadId: number;
}

/**
 * Serves `socket` on a new Worker thread. `onClosed` runs once, after both the
 * socket and the thread are gone. Create the server with
 * `{ allowHalfOpen: true }`: a client may finish sending before its replies
 * have come back from the thread, and they must still reach it.
 */
export function serveOnThread(socket: Socket, data: ConnectionThreadData, onClosed: () => void): ThreadConnection {
  const thread = new Worker(CONNECTION_WORKER, { workerData: data });
  let inFlight = 0; // bytes posted to the thread and not answered yet
  let blockedOnWrite = false; // the socket's write buffer is full
  let ended = false; // we told the thread to finish

  socket.setNoDelay(true); // replies are small: send each at once

  socket.on('data', (chunk: Buffer) => {
    // An exact copy that we can move to the thread without copying again.
    const bytes = new Uint8Array(chunk);
    inFlight += bytes.byteLength;
    thread.postMessage(bytes satisfies ToThread, [bytes.buffer]);
    if (inFlight > MAX_IN_FLIGHT_BYTES) socket.pause();
  });
  socket.on('end', () => finish()); // the client sent everything it will send
  socket.on('close', () => finish());
  socket.on('error', () => socket.destroy()); // the client vanished; 'close' follows
  socket.on('drain', () => {
    blockedOnWrite = false;
    readOnIfPossible();
  });

  thread.on('message', ({ bytes, close, consumed }: FromThread) => {
    inFlight -= consumed;
    if (bytes !== null && socket.writable) {
      if (!socket.write(bytes)) blockedOnWrite = true;
    }
    if (close) {
      socket.end(); // after the bytes just written
      finish();
    }
    readOnIfPossible();
  });
  thread.on('error', (caught) => {
    log(`connection thread ${thread.threadId} failed: ${caught.stack ?? caught}`);
    socket.destroy();
  });
  thread.once('exit', () => {
    // Replies already written still go out; then the socket closes.
    if (!socket.destroyed) socket.end();
    onClosed();
  });

  function readOnIfPossible(): void {
    if (!ended && !blockedOnWrite && inFlight <= MAX_IN_FLIGHT_BYTES && socket.isPaused()) socket.resume();
  }

  function finish(): void {
    if (ended) return;
    ended = true;
    socket.pause();
    thread.postMessage(null satisfies ToThread); // after every chunk already posted
  }

  return { threadId: thread.threadId };
}
