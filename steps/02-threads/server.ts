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

import { SERVER_OPTIONS, describeOptions, parseOptions, stepUsage } from '../../shared/cli/options.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import { threadFile } from '../../shared/threads/connection-thread.ts';
import { listen } from '../../shared/server/listen.ts';
import { log } from '../../shared/server/log.ts';
import { exitOnSignal } from '../../shared/server/shutdown.ts';
import { RACE_WINDOW_OPTIONS, THREAD_SERVER_OPTIONS, threadServer } from '../../shared/server/thread-server.ts';

const { values: options } = parseOptions({
  ...SERVER_OPTIONS,
  ...RACE_WINDOW_OPTIONS, // --race-window-ms
  ...THREAD_SERVER_OPTIONS, // --max-connections
} as const, stepUsage('02-threads'));
log(`step 02-threads: ${describeOptions(options)}`);

// What each connection's thread runs: thread.ts, its commands on the store
// with no lock (compiled once, now, before the server listens).
const THREAD = threadFile(new URL('./thread.ts', import.meta.url));

// The data: a hash table in a SharedArrayBuffer, the one kind of memory that
// threads can share. Every connection thread wraps this same buffer.
const store = SharedStore.create();

// One Worker thread per connection (thread-server.ts: the connection limit,
// the count for INFO). The main thread keeps the socket and forwards bytes;
// the connection's thread runs its commands on the store.
const { server, drop } = threadServer({
  thread: THREAD,
  quiet: options.quiet,
  data: {
    storeBuffer: store.buffer,
    lock: 'none', // NO LOCK (thread.ts): every thread touches the store whenever it likes
    raceWindowMs: options.raceWindowMs,
    workMs: options.workMs,
    step: '02-threads',
    maxConnections: options.maxConnections,
  },
});

await listen(server, options.host, options.port);

// Ctrl+C or SIGTERM: stop accepting, close the connections, exit (which ends the threads).
exitOnSignal((signal) => {
  log(`${signal}: shutting down`);
  return drop();
});
