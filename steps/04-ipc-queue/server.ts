// Step 04: writes are persisted by a worker process, through a bounded queue.
//
// Step 03 kept everything in memory: stop the server and the data is gone.
// Here every write that changed the store also becomes a persistence task.
// The main thread puts the tasks on a bounded queue; a worker process (its
// own process, started with child_process.fork) takes them in batches over
// the IPC channel and appends them to a log file in --data-dir. When the
// server starts, it replays that log into the store.
//
// The lessons:
// - MESSAGE PASSING. The worker process shares no memory with the server:
//   everything it knows arrives as a message (a copy of the bytes). Compare
//   with the connection threads, which share the store and need a lock.
// - BACKPRESSURE. The queue is bounded (--queue-capacity). When the worker
//   cannot keep up (try --task-cpu-ms 5), the server holds back its replies to
//   writes until there is room, and stops reading from those clients: they
//   slow down to the worker's pace, and memory stays bounded. (The seed's
//   queue was unbounded: its backlog, and memory, grew without limit.)
// - ORDER. The log must hold the writes in the order they were applied, or
//   replay rebuilds another state. Threads number their writes under the
//   store lock; the main thread restores that order before queueing.
// - DURABILITY. By default a write is acknowledged once it is queued: a crash
//   loses what is still queued. With --durable the reply waits until the
//   worker has written and fsynced it.
//
// Run it: npm run step -- 04        (then: npm run step -- 04 --durable)

import path from 'node:path';
import { SERVER_OPTIONS, describeOptions, parseOptions, stepUsage } from '../../shared/cli/options.ts';
import { ROOT } from '../../shared/cli/steps.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import { threadFile } from '../../shared/threads/connection-thread.ts';
import { listen } from '../../shared/server/listen.ts';
import { log } from '../../shared/server/log.ts';
import { exitOnSignal } from '../../shared/server/shutdown.ts';
import { THREAD_SERVER_OPTIONS, threadServer } from '../../shared/server/thread-server.ts';
import { LOCK_OPTIONS } from '../03-lock/command-lock.ts';
import { persisterFigures } from '../../shared/persistence/info-figures.ts';
import { ONE_WORKER, PERSISTENCE_OPTIONS, Persister } from './persister.ts';
import { newSequence } from '../../shared/persistence/recording-store.ts';
import { replayAtStartup } from '../../shared/persistence/replay.ts';
import { ownDataDirAtStartup } from '../../shared/persistence/ownership.ts';

const { values: options } = parseOptions({
  ...SERVER_OPTIONS,
  ...LOCK_OPTIONS, // --lock mutex|rw (step 03)
  ...THREAD_SERVER_OPTIONS, // --max-connections
  dataDir: { type: 'string', default: path.join(ROOT, 'data', '04-ipc-queue'), help: 'folder of the log' },
  ...PERSISTENCE_OPTIONS, // --durable, --queue-capacity, --task-cpu-ms, --owner-wait-s (persister.ts)
} as const, stepUsage('04-ipc-queue'));
log(`step 04-ipc-queue: ${describeOptions(options)}`);

// What each connection's thread runs: thread.ts, step 03's, recording its
// writes (compiled once, now, before the server listens).
const THREAD = threadFile(new URL('./thread.ts', import.meta.url));

// The data: a hash table in a SharedArrayBuffer, the one kind of memory that
// threads can share. Every connection thread wraps this same buffer.
// The lock lives in the same buffer (store.lockWords: a few spare Int32 words
// in its header), so every thread finds the same lock in the same place.
const store = SharedStore.create();

// 0. OWNERSHIP: make the data directory ours before reading it. A worker
//    process of a server that was SIGKILLed may still be appending to the
//    log: wait for it (ownership.ts), or refuse if another server runs.
await ownDataDirAtStartup(options.dataDir, options.ownerWaitS, log);

// 1. Replay: rebuild the store from the log before anyone connects.
const logFiles = ONE_WORKER.logFiles(1); // one worker process, one log: log.aof
const replay = replayAtStartup(options.dataDir, logFiles, store);
log(`replayed ${replay.records} records from ${path.join(options.dataDir, logFiles[0]!)}: ` +
  `${replay.keys} keys` + (replay.truncatedBytes > 0 ? ` (dropped ${replay.truncatedBytes} bytes of a cut-short record)` : ''));

// 2. The sequence counter, shared by every connection thread, continues
//    after the last number in the log.
const sequence = newSequence(replay.lastSeq + 1);

// 3. The worker process and the bounded queue in front of it.
const persister = await Persister.start({
  dataDir: options.dataDir,
  workers: 1,
  dispatch: ONE_WORKER,
  capacity: options.queueCapacity,
  durable: options.durable,
  taskCpuMs: options.taskCpuMs,
  firstSeq: replay.lastSeq + 1,
  onWorkerExit(_index, code, signal) {
    // No supervision yet (that is step 06): without its worker the server
    // cannot keep its promise to persist, so it stops.
    log(`the worker process died (${signal ?? code}): stopping`);
    process.exit(1);
  },
});
log(`worker processes: ${persister.workerPids().join(', ')} (appending to the log)`);

// The queue's figures, in shared memory so that INFO (run by the threads) can show them.
const figures = persisterFigures(persister);

// One Worker thread per connection (thread-server.ts: the connection limit,
// the count for INFO), each running THREAD.
const { server, finish } = threadServer({
  thread: THREAD,
  quiet: options.quiet,
  data: {
    storeBuffer: store.buffer,
    lock: options.lock, // THE LOCK: each command runs holding it
    // no raceWindowMs: the lock closed the race in step 03, no magnifying glass
    workMs: options.workMs,
    step: '04-ipc-queue',
    maxConnections: options.maxConnections,
    sequence, // NEW: each write becomes a task, numbered under the lock, sent with the replies
    figures, // NEW: the queue's figures, for INFO
  },
  // BACKPRESSURE: a chunk's replies go out once the queue has taken its
  // writes (with --durable: once they are fsynced); until then, this
  // client is not read from.
  beforeReply: (tasks) => persister.offer(tasks),
});

await listen(server, options.host, options.port);

// Ctrl+C or SIGTERM: a graceful stop that loses nothing acknowledged.
//   1. stop accepting connections;
//   2. let each connection thread finish what it was given, and send its replies;
//   3. drain the queue: the worker writes every task, then - its channel
//      closed - fsyncs the log and exits;
//   4. exit.
exitOnSignal(async (signal) => {
  log(`${signal}: draining ${persister.stats().queue_depth} queued tasks, then stopping`);
  await finish();
  await persister.close();
  log(`log closed: ${persister.stats().tasks_written} tasks written since start`);
});
