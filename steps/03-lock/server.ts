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

import { SERVER_OPTIONS, describeOptions, parseOptions, stepUsage } from '../../shared/cli/options.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import { threadFile } from '../../shared/threads/connection-thread.ts';
import { listen } from '../../shared/server/listen.ts';
import { log } from '../../shared/server/log.ts';
import { exitOnSignal } from '../../shared/server/shutdown.ts';
import { RACE_WINDOW_OPTIONS, THREAD_SERVER_OPTIONS, threadServer } from '../../shared/server/thread-server.ts';
import { LOCK_OPTIONS } from './command-lock.ts';

const { values: options } = parseOptions({
  ...SERVER_OPTIONS,
  ...LOCK_OPTIONS, // NEW: --lock mutex|rw
  ...RACE_WINDOW_OPTIONS, // --race-window-ms
  ...THREAD_SERVER_OPTIONS, // --max-connections
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

// One Worker thread per connection (thread-server.ts: the connection limit,
// the count for INFO). The main thread keeps the socket and forwards bytes;
// the connection's thread runs its commands on the store.
const { server, drop } = threadServer({
  thread: THREAD,
  quiet: options.quiet,
  data: {
    storeBuffer: store.buffer,
    lock: options.lock, // THE LOCK (thread.ts): each command runs holding it
    raceWindowMs: options.raceWindowMs,
    workMs: options.workMs,
    step: '03-lock',
    maxConnections: options.maxConnections,
  },
});

await listen(server, options.host, options.port);

// Ctrl+C or SIGTERM: stop accepting, close the connections, exit (which ends the threads).
exitOnSignal((signal) => {
  log(`${signal}: shutting down`);
  return drop();
});
