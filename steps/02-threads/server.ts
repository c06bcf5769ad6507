// Step 02: one thread per connection, one store in shared memory, no lock.
//
// The lesson: threads run truly in parallel. In step 01 one long command
// (WORK 2000) held the only thread and every client waited. Here each
// connection gets its own Worker thread, so a busy client keeps only its own
// thread busy, and a second core serves the others.
//
// The price: the threads now share data. A JavaScript Map cannot be shared
// between threads, so the store moves into a SharedArrayBuffer, and every
// thread reads and writes the same bytes - with nothing to stop two threads
// from doing it at the same moment. Run the tester (npm run tester -- --step 02)
// and watch it FAIL: two clients both create the same key, increments are
// lost. docs/race-conditions.md explains each race; step 03 fixes them.
//
// Run it: npm run step -- 02        (or: npx tsx steps/02-threads/server.ts --port 0)

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
  raceWindowMs: {
    type: 'number', default: 1, min: 0, max: 10_000,
    help: 'ms a command sleeps between its check and its act: a magnifying glass on the race (0: off)',
  },
  maxConnections: {
    type: 'number', default: 100, min: 1, max: 1000,
    help: 'most open connections; each one costs a thread (its cost: docs/figures.md#thread-cost)',
  },
} as const, stepUsage('02-threads'));
log(`step 02-threads: ${describeOptions(options)}`);

// What each connection's thread runs: thread.ts, its commands on the store
// with no lock (compiled once, now, before the server listens).
const THREAD = threadFile(new URL('./thread.ts', import.meta.url));

// The data: a hash table in a SharedArrayBuffer, the one kind of memory that
// threads can share. Every connection thread wraps this same buffer.
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
    lock: 'none', // NO LOCK (thread.ts): every thread touches the store whenever it likes
    raceWindowMs: options.raceWindowMs,
    workMs: options.workMs,
    step: '02-threads',
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
