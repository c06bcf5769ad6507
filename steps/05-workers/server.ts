// Step 05: several worker processes consume the queue in parallel.
//
// Step 04 had one worker process: with real work per task (try
// --task-cpu-ms 2), one process on one core is the limit. Here --workers N
// processes (default: one per core) take batches from the same bounded queue,
// in parallel - truly in parallel: they are processes, each with its own
// event loop, on their own cores.
//
// The lesson is the hazard that parallel consumers bring, and its fix:
// - --dispatch free: each batch goes to whichever worker is least busy, and
//   all append to one shared log. Two writes to one key can land in two
//   workers; if the one holding the OLDER write is still busy when the other
//   finishes, the newer write reaches the log first. Memory says `new`; after
//   a restart, replay (in file order) says `old`. Replay counts and reports
//   such keys.
// - --dispatch by-key (the default): every write of a key goes to worker
//   hash(key) mod N, and each worker has a log of its own. One key's writes
//   then travel one FIFO path - queue, channel, worker, file - so they stay in
//   order, and keys never meet across logs. Parallel, and still correct.
//
// Run it: npm run step -- 05 --workers 2 --dispatch free --task-cpu-ms 5

import { availableParallelism } from 'node:os';
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
import { PERSISTENCE_OPTIONS, Persister } from '../04-ipc-queue/persister.ts';
import { DISPATCHES, DISPATCH_NAMES } from './dispatch.ts';
import { newSequence } from '../../shared/persistence/recording-store.ts';
import { replayAtStartup } from '../../shared/persistence/replay.ts';
import { ownDataDirAtStartup } from '../../shared/persistence/ownership.ts';

const { values: options } = parseOptions({
  ...SERVER_OPTIONS,
  ...LOCK_OPTIONS, // --lock mutex|rw (step 03)
  ...THREAD_SERVER_OPTIONS, // --max-connections
  dataDir: { type: 'string', default: path.join(ROOT, 'data', '05-workers'), help: 'folder of the logs' },
  workers: { type: 'number', default: availableParallelism(), min: 1, max: 64, help: 'worker processes' },
  dispatch: {
    type: 'string', default: 'by-key', choices: DISPATCH_NAMES,
    help: 'by-key: hash(key) mod N, a log per worker; free: least busy worker, one shared log',
  },
  ...PERSISTENCE_OPTIONS, // --durable, --queue-capacity, --task-cpu-ms, --owner-wait-s (persister.ts)
} as const, stepUsage('05-workers'));
log(`step 05-workers: ${describeOptions(options)}`);

// What each connection's thread runs: step 04's thread, recording its writes.
const THREAD = threadFile(new URL('../04-ipc-queue/thread.ts', import.meta.url));

// The data: a hash table in a SharedArrayBuffer, the one kind of memory that
// threads can share. Every connection thread wraps this same buffer.
// The lock lives in the same buffer (store.lockWords: a few spare Int32 words
// in its header), so every thread finds the same lock in the same place.
const store = SharedStore.create();

const dispatch = DISPATCHES[options.dispatch]; // dispatch/by-key.ts or dispatch/free.ts

// 0. The data directory becomes ours first (ownership.ts, as in step 04).
await ownDataDirAtStartup(options.dataDir, options.ownerWaitS, log);

// 1. Replay: rebuild the store from the logs before anyone connects. With
//    by-key dispatch a key's records are all in one log, in order; with free
//    dispatch they may not be, and replay says so.
const logFiles = dispatch.logFiles(options.workers);
const replay = replayAtStartup(options.dataDir, logFiles, store);
log(`replayed ${replay.records} records from ${logFiles.join(', ')} in ${options.dataDir}: ` +
  `${replay.keys} keys` + (replay.truncatedBytes > 0 ? ` (dropped ${replay.truncatedBytes} bytes of a cut-short record)` : ''));
if (replay.outOfOrder > 0) {
  log(`WARNING: ${replay.outOfOrder} records were out of order in the log (${replay.outOfOrderExample}): ` +
    'those keys may hold an older value than the one acknowledged before the restart');
}

// 2. The sequence counter, shared by every connection thread, continues
//    after the last number in the log.
const sequence = newSequence(replay.lastSeq + 1);

// 3. The worker processes and the bounded queue in front of them.
const persister = await Persister.start({
  dataDir: options.dataDir,
  workers: options.workers,
  dispatch,
  capacity: options.queueCapacity,
  durable: options.durable,
  taskCpuMs: options.taskCpuMs,
  firstSeq: replay.lastSeq + 1,
  onWorkerExit(index, code, signal) {
    // No supervision yet (that is step 06): without all its workers the server
    // cannot keep its promise to persist, so it stops.
    log(`worker process ${index} died (${signal ?? code}): stopping`);
    process.exit(1);
  },
});
log(`worker processes: ${persister.workerPids().join(', ')} (${dispatch.name} dispatch)`);

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
    step: '05-workers',
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
//   3. drain the queue: the workers write every task, then - their channels
//      closed - fsync their logs and exit;
//   4. exit.
exitOnSignal(async (signal) => {
  log(`${signal}: draining ${persister.stats().queue_depth} queued tasks, then stopping`);
  await finish();
  await persister.close();
  log(`log closed: ${persister.stats().tasks_written} tasks written since start`);
});
