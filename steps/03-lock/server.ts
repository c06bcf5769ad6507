// Step 03: step 02 plus a lock. Every command runs under it.
//
// The lesson: a lock makes a sequence of steps atomic. Step 02's commands
// were right one at a time and wrong together: two threads both saw "absent"
// and both created the key; two increments read the same number. Here each
// command takes the store's lock before it touches the store and releases it
// after, so no other thread can run between its check and its act - not even
// with the same 1 ms race window as step 02 (the tester: SUCCESS).
//
// --lock mutex (default): one command at a time.
// --lock rw: a read-write lock; reads (GET, DUMP...) share it, writes take it alone.
// What the lock costs, and what the read-write lock wins back: see README.md.
//
// Run it: npm run step -- 03        (or: npx tsx steps/03-lock/server.ts --lock rw --port 0)

import net from 'node:net';
import { SERVER_OPTIONS, describeOptions, parseOptions, stepUsage } from '../../shared/cli/options.ts';
import { encodeReply } from '../../shared/protocol/encode.ts';
import { ErrorCode, error } from '../../shared/protocol/reply.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import { serveOnThread, threadFile } from '../../shared/threads/connection-thread.ts';
import { listen } from '../../shared/server/listen.ts';
import { log, peerName } from '../../shared/server/log.ts';

const { values: options } = parseOptions({
  ...SERVER_OPTIONS,
  lock: {
    type: 'string', default: 'mutex', choices: ['mutex', 'rw'],
    help: 'the lock every command runs under: a mutex, or a read-write lock',
  },
  raceWindowMs: {
    type: 'number', default: 1, min: 0, max: 10_000,
    help: 'ms a command sleeps between its check and its act: a magnifying glass on the race (0: off)',
  },
  maxConnections: {
    type: 'number', default: 100, min: 1, max: 1000,
    help: 'most open connections; each one costs a thread (its cost: docs/figures.md#thread-cost)',
  },
} as const, stepUsage('03-lock'));
log(`step 03-lock: ${describeOptions(options)}`);

// What each connection's thread runs: thread.ts, each command under the lock
// (compiled once, now, before the server listens).
const THREAD = threadFile(new URL('./thread.ts', import.meta.url));

// The data: a hash table in a SharedArrayBuffer, the one kind of memory that
// threads can share. Every connection thread wraps this same buffer.
// The lock lives in the same buffer (store.lockWords: a few spare Int32 words
// in its header), so every thread finds the same lock in the same place.
const store = SharedStore.create();

// Open connections, in shared memory so that INFO (run by the threads) can show it.
const counters = new Int32Array(new SharedArrayBuffer(4));
const sockets = new Set<net.Socket>();

// allowHalfOpen: a client may finish sending (`printf 'GET k\r\n' | nc ...`)
// before its thread has answered; we close our side once the answers are out.
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  const peer = peerName(socket);

  // Threads are expensive (memory, start-up time): past the limit, say so and close.
  if (sockets.size >= options.maxConnections) {
    socket.end(encodeReply(error(ErrorCode.BUSY, `too many connections (the limit is ${options.maxConnections})`)));
    if (!options.quiet) log(`${peer} turned away: ${sockets.size} open, the limit`);
    return;
  }
  sockets.add(socket);
  Atomics.store(counters, 0, sockets.size);

  // The main thread keeps the socket (it cannot be given to a thread) and
  // forwards bytes; a new Worker runs this client's commands on the store.
  const thread = serveOnThread(THREAD, socket, {
    storeBuffer: store.buffer,
    lock: options.lock, // THE LOCK (thread.ts): each command runs holding it
    raceWindowMs: options.raceWindowMs,
    workMs: options.workMs,
    step: '03-lock',
    maxConnections: options.maxConnections,
    counters,
  }, () => {
    sockets.delete(socket);
    Atomics.store(counters, 0, sockets.size);
    if (!options.quiet) log(`${peer} closed, thread ${thread.threadId} ended (${sockets.size} open)`);
  });
  if (!options.quiet) log(`connection from ${peer} on thread ${thread.threadId} (${sockets.size} open)`);
});

await listen(server, options.host, options.port);

// Ctrl+C or SIGTERM: stop accepting, close the connections, exit (which ends the threads).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: shutting down`);
    server.close(() => process.exit(0));
    for (const socket of sockets) socket.destroy();
  });
}
