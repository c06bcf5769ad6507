// Step 06: the complete server - an event loop, a bounded thread pool, a
// supervised pool of worker processes, and a graceful shutdown.
//
// Steps 02-05 gave every connection a thread of its own. That cost
// [about 14 MB](docs/figures.md#thread-cost-memory) and
// [about 170 ms](docs/figures.md#thread-cost-start) per connection, and every request paid a hop
// between threads (the main thread owns the socket and forwards the bytes).
// Here:
//
// - THE EVENT LOOP serves every connection, as in step 01: it parses, and
//   runs fast commands itself, on the shared store under a read-write lock.
//   A GET or a SET takes microseconds: handing it to a thread would cost more
//   than running it (see the README for the measured figures).
// - A BOUNDED THREAD POOL (--threads, default one per core) runs the heavy
//   commands (WORK, or every command with --work-ms) on the same shared
//   store under the same lock, so one slow command no longer stalls everyone
//   (step 01's problem) - and 1,000 connections cost 1,000 sockets, not
//   1,000 threads.
// - THE WORKER PROCESSES of step 05 persist every write (by-key routing, a
//   log each), now SUPERVISED: one that dies is restarted and its unfinished
//   tasks are written again. Nothing acknowledged is lost. Each REWRITES
//   ITS LOG to the live data while it serves, as the log grows and on
//   BGREWRITEAOF (shared/persistence/log-rewrite.ts), so that a start
//   replays the data, not its history.
// - SHUTDOWN (Ctrl+C, SIGTERM, or the SHUTDOWN command) is graceful: stop
//   accepting, finish what was received, tell each client, drain the queue,
//   fsync the logs, exit 0 with no process left behind.
// - INFO shows it all live: connections, calls per command, latency
//   percentiles, queue depth, each worker's CPU, memory and restarts.
//
// Run it: npm start            (or: npm run step -- 06 --help)

import net from 'node:net';
import { availableParallelism, machine, release, totalmem, type } from 'node:os';
import path from 'node:path';
import { SERVER_OPTIONS, describeOptions, parseOptions, stepUsage } from '../../shared/cli/options.ts';
import { ROOT } from '../../shared/cli/steps.ts';
import { commandSpec, executeCommand, isWrite, type CommandContext } from '../../shared/commands/commands.ts';
import type { InfoFields, InfoSection } from '../../shared/commands/info.ts';
import { VersionedStore, sharedKeyVersions } from '../../shared/commands/key-versions.ts';
import { ClientState, REDIS_VERSION, peerOf, type StoreAccess } from '../../shared/server/client-state.ts';
import { RwLock } from '../../shared/locks/rwlock.ts';
import { readWriteCommandLock } from '../03-lock/command-lock.ts';
import { encodeReply } from '../../shared/protocol/encode.ts';
import { ErrorCode, error, simple } from '../../shared/protocol/reply.ts';
import { BufferRegistry } from '../../shared/store/buffer-registry.ts';
import { CLASS_BYTES, GrowableStore, MAX_ITEM_BYTES, OUT_OF_LINE_BYTES, recordBytes } from '../../shared/store/growable-store.ts';
import { DEFAULT_LIMITS, type ParserLimits } from '../../shared/protocol/request-parser.ts';
import { listen } from '../../shared/server/listen.ts';
import { log, peerName } from '../../shared/server/log.ts';
import { Persister } from '../04-ipc-queue/persister.ts';
import { BY_KEY } from '../05-workers/dispatch/by-key.ts';
import { restartEveryWorker } from './supervisor.ts';
import { RecordingStore, newSequence } from '../../shared/persistence/recording-store.ts';
import type { PersistTask } from '../../shared/persistence/task.ts';
import { replayAtStartup } from '../../shared/persistence/replay.ts';
import { OWNERSHIP_OPTIONS, ownDataDirAtStartup } from '../../shared/persistence/ownership.ts';
import { ClientConnection } from './connection.ts';
import { ExpiringStore, activeExpireCycle, startActiveExpiry } from '../../shared/commands/expiry.ts';
import { LIST_COMMANDS } from '../../shared/commands/list-commands.ts';
import { Lists } from '../../shared/store/lists.ts';
import { TYPE_LIST } from '../../shared/store/store.ts';
import { CommandCounts, LatencyHistogram, RateMeter, memoryFigures, processFigures } from './figures.ts';
import { ThreadPool } from './thread-pool.ts';
import { IdleCompaction } from '../../shared/server/idle-compaction.ts';
import { ReplicationPrimary } from './replication/primary.ts';
import { ReplicationRole } from './replication/role.ts';
import type { RdbEntry } from './replication/rdb.ts';

const { values: options, positionals } = parseOptions({
  ...SERVER_OPTIONS,
  threads: { type: 'number', default: availableParallelism(), min: 1, max: 64, help: 'threads in the pool for heavy commands' },
  execute: {
    type: 'string', default: 'loop', choices: ['loop', 'pool'],
    help: 'loop: fast commands on the event loop, heavy ones on the pool; pool: every command hops to the pool (to measure)',
  },
  workers: { type: 'number', default: availableParallelism(), min: 1, max: 64, help: 'worker processes (logs)' },
  dataDir: { type: 'string', default: path.join(ROOT, 'data', '06-worker-pool'), help: 'folder of the logs' },
  durable: { type: 'boolean', default: false, help: 'reply to a write only once it is fsynced' },
  queueCapacity: { type: 'number', default: 10_000, min: 1, help: 'most persistence tasks waiting' },
  taskCpuMs: { type: 'number', default: 0, min: 0, max: 1000, help: 'CPU each task costs a worker process, in ms' },
  maxConnections: { type: 'number', default: 10_000, min: 1, help: 'most open connections' },
  maxMemory: {
    type: 'bytes', default: Math.floor(totalmem() / 4), min: 0,
    help: "past this much data, writes get -OOM (Redis's maxmemory; 0 = no limit; default a quarter of this machine's memory)",
  },
  replicaof: { type: 'string', default: '', help: "'HOST PORT' (or HOST:PORT): start as a read-only replica of that primary (Redis's replicaof)" },
  minReplicasToWrite: { type: 'number', default: 0, min: 0, max: 100, help: "refuse writes (-NOREPLICAS) with fewer good replicas than this (Redis's min-replicas-to-write)" },
  minReplicasMaxLag: { type: 'number', default: 10, min: 1, max: 3600, help: 'a good replica acknowledged within this many seconds (min-replicas-max-lag)' },
  replBacklogSize: { type: 'bytes', default: 1024 * 1024, min: 16 * 1024, help: "bytes of the write stream kept for replicas that reconnect (Redis's repl-backlog-size)" },
  replicaOutputLimit: {
    type: 'bytes', default: 256 * 1024 * 1024, min: 1024,
    help: "a replica this many bytes behind is cut off (Redis's client-output-buffer-limit replica, hard)",
  },
  protoMaxBulkLen: {
    type: 'bytes', default: MAX_ITEM_BYTES, min: 1, max: MAX_ITEM_BYTES,
    help: "longest argument a request may carry (Redis's proto-max-bulk-len)",
  },
  aofRewritePercentage: {
    type: 'number', default: 100, min: 0, max: 100_000,
    help: 'rewrite a log once it has grown by this many percent since its last rewrite (0: only on BGREWRITEAOF)',
  },
  aofRewriteMinSize: {
    type: 'number', default: 16 * 1024 * 1024, min: 0,
    help: 'but not before it holds this many bytes (Redis: 64 MB; see docs/log-compaction.md)',
  },
  aofRewriteMinInterval: {
    type: 'number', default: 1000, min: 0, max: 3_600_000,
    help: 'and start one at most every this many ms in each worker process; a due one waits (0: no wait)',
  },
  aofRewriteIdle: {
    type: 'number', default: 10_000, min: 0, max: 3_600_000,
    help: 'a log under the minimum size (64 KB or more, grown by the percentage) is rewritten after this many ms with no write (0: never)',
  },
  ...OWNERSHIP_OPTIONS,
} as const, stepUsage('06-worker-pool'));
log(`step 06-worker-pool: ${describeOptions(options)}`);

// 1. The store in shared memory, and its read-write lock (in the store's own
//    control words): the event loop and the pool threads all use both. It
//    grows with its data (shared/store/growable-store.ts); the buffers it
//    adds for big values and its index reach the pool threads through a
//    BufferRegistry, one port for each pair of threads.
const registryPorts = BufferRegistry.mesh(1 + options.threads);
const store = GrowableStore.create({}, new BufferRegistry(registryPorts[0]));
const lock = new RwLock(store.lockWords);
// Step 03's read-or-write choice for one command (steps/03-lock/command-lock.ts).
const commandLock = readWriteCommandLock(lock);
// Lists' elements live here, on the event loop, beside the store (whose
// records say which keys are lists): shared/store/lists.ts. What they take
// counts in the store's used memory (INFO, --max-memory).
const lists = new Lists((deltaBytes) => store.countBeside(deltaBytes));

// 2. Own the data directory (ownership.ts: wait for worker processes of an
//    ended server that still write into it), then replay the logs, one per
//    worker process (step 05's by-key layout).
await ownDataDirAtStartup(options.dataDir, options.ownerWaitS, log);
const logFiles = BY_KEY.logFiles(options.workers);
const replayStarted = Date.now();
const replay = replayAtStartup(options.dataDir, logFiles, store, lists);
// The limit applies from now on: like Redis, start-up loads every record.
store.maxMemory = options.maxMemory;
log(`replayed ${replay.records} records from ${logFiles.join(', ')} in ${options.dataDir}: ${replay.keys} keys, ` +
  `${Date.now() - replayStarted} ms` +
  (replay.truncatedBytes > 0 ? ` (dropped ${replay.truncatedBytes} bytes of a cut-short record)` : ''));

const sequence = newSequence(replay.lastSeq + 1);
// 3. The thread pool: a fixed number of threads, whatever the connections.
// Made before the worker processes are forked: the threads start while
// they do (a Worker starts in the background).
// WATCH's key versions: one table for the event loop and every pool thread.
const versions = sharedKeyVersions();
const pool = new ThreadPool(options.threads, (i) => ({
  storeHandle: store.handle, registryPorts: registryPorts[i + 1]!, sequence, workMs: options.workMs,
  versionsBuffer: versions.buffer,
}));

// 4. The worker processes, supervised.
/**
 * How long the persister gathers writes for one message to a worker process
 * (0 with --durable: a reply waits for it). A replica gathers up to 50 ms
 * (or the persister's maxBatch tasks, 1,000, if sooner) where a
 * primary gathers 10: its logs are a copy of its primary's data, and a
 * replica that restarts resyncs in full (its first PSYNC is `PSYNC ? -1`),
 * so the writes a SIGKILL of it would lose the primary sends again; fewer,
 * larger messages took a third less of its worker processes' CPU under
 * replication.ts's load (docs/replication.md). Promoted, it acknowledges
 * its own clients' writes, and gathers 10 ms again.
 */
function batchDelayMs(isReplica: boolean): number {
  if (options.durable) return 0;
  return isReplica ? 50 : 10;
}
const rewritesAtExit = new Map<number, number>(); // aof_rewrites as a worker process died
let rewritesOfEndedWorkers = 0;
const persister = await Persister.start({
  dataDir: options.dataDir,
  workers: options.workers,
  dispatch: BY_KEY,
  capacity: options.queueCapacity,
  durable: options.durable,
  taskCpuMs: options.taskCpuMs,
  firstSeq: replay.lastSeq + 1,
  // SUPERVISION (supervisor.ts): a worker process that dies is restarted on its log.
  supervisor: restartEveryWorker({
    onRestart: (index, pid, resent) => {
      // The new process counts its rewrites from 0: keep the dead one's, so
      // that INFO's aof_rewrites counts since the server started, as Redis's.
      rewritesOfEndedWorkers += Math.max(0, (rewritesAtExit.get(index) ?? 0) - persister.stats().aof_rewrites);
      log(`worker process ${index} restarted as pid ${pid}; ${resent} unfinished tasks sent to it again`);
    },
  }),
  bundled: true, // plain JavaScript, no tsx loader: 35 MB less per process
  // A young generation of at most 2 x 1 MB (Node's default grows to 2 x 16
  // MB under a write flood, and stays): a worker process allocates little
  // per batch, and its log rewrites' states are long-lived anyway.
  execArgv: ['--max-semi-space-size=1'],
  // glibc gives every freed block of 16 KB or more straight back (npm start
  // sets 128 KB for the server): a batch's bytes, received by the hundred a
  // second, otherwise leave holes in its heap that an idle process keeps
  // (2-3 MB per worker process after the 60,000-key load, docs/store.md).
  // And it gives back the free top of its heaps whatever its size, with no
  // padding when a heap grows (glibc's defaults: 128 KB each; a worker
  // process's other threads' heaps then keep less too): at rest after the
  // 60,000-key load the two kept 15.7 MB instead of 18.4, for 4 % more of
  // their CPU per SET, within the noise (docs/store.md).
  env: { MALLOC_MMAP_THRESHOLD_: '16384', MALLOC_TRIM_THRESHOLD_: '0', MALLOC_TOP_PAD_: '0' },
  // Without --durable no reply waits for the workers: gather 10 ms of writes
  // per message (thousands fewer messages per second, measured in
  // docs/step-06-measurements.md); a replica gathers longer (role hooks below).
  batchDelayMs: batchDelayMs(false),
  onWorkerExit: (index, code, signal) => {
    rewritesAtExit.set(index, persister.stats().aof_rewrites);
    log(`worker process ${index} died (${signal ?? `exit code ${code}`}): restarting it`);
  },
  // Each worker process rewrites its log to the live data as it grows
  // (log-rewrite.ts), as Redis does with auto-aof-rewrite-percentage.
  rewrite: { percentage: options.aofRewritePercentage, minSize: options.aofRewriteMinSize, minIntervalMs: options.aofRewriteMinInterval, idleMs: options.aofRewriteIdle },
});
log(`worker processes: ${persister.workerPids().join(', ')}`);

// 4b. Replication (replication/primary.ts): the write stream, made here on
//     the event loop from the same tasks the persister gets, in their order.
const replication = new ReplicationPrimary({
  firstSeq: replay.lastSeq + 1,
  snapshot: () => lock.withRead(() => ({ entries: snapshotEntries(), nextSeq: Number(Atomics.load(sequence, 0)) })),
  nextSeq: () => Number(Atomics.load(sequence, 0)),
  backlogBytes: options.replBacklogSize,
  outputLimitBytes: options.replicaOutputLimit,
});

/**
 * The snapshot of a full resync (the caller holds the read lock): every key
 * with its expiry time; a list's elements from `lists`, on this thread. A
 * list record whose elements are gone (a DEL on a pool thread) is left out.
 */
function snapshotEntries(): RdbEntry[] {
  const entries: RdbEntry[] = [];
  store.forEachEntry((key, value, expiresAt, type) => {
    const elements = type === TYPE_LIST ? lists.elements(key) : undefined;
    if (type === TYPE_LIST && elements === undefined) return;
    entries.push({ key: Buffer.from(key), value: elements ?? Buffer.from(value), expiresAt });
  });
  return entries;
}

// 5. Running a command on the event loop: step 03's locking, step 04's
//    recording of writes, all on this one thread.
const recording = new RecordingStore(store, sequence);
const counts = new CommandCounts();
const latency = new LatencyHistogram();
const connections = new Set<ClientConnection>();
let totalConnections = 0;
let keyspaceHits = 0;
let keyspaceMisses = 0;
const startedAt = Date.now();

// Each write is logged, and bumps its key's version; an expired key is
// hidden from every read and reclaimed by the next write or by the active
// cycle below (reads run under the read lock: they may not delete).
const expiring = new ExpiringStore(new VersionedStore(recording, versions));
expiring.onReclaim = (key) => lists.forget(key);
/**
 * MEMORY USAGE: the chunk its record takes (the size class of header + key +
 * value), a key or value over 64 KB in a buffer of its own, its share of the
 * index (8-byte slots at a load of at most 1/2), and a list's elements (their
 * bytes and one 8-byte slot each, in the Deque on this thread).
 */
function memoryUsage(key: Buffer): number | undefined {
  const value = expiring.get(key);
  if (value === undefined) return undefined;
  const inline = recordBytes(key.length, value.length);
  const chunk = CLASS_BYTES.find((size) => size >= inline) ?? inline;
  const outOfLine = (key.length > OUT_OF_LINE_BYTES ? key.length : 0) + (value.length > OUT_OF_LINE_BYTES ? value.length : 0);
  const elements = expiring.typeOf?.(key) === TYPE_LIST ? lists.elements(key) ?? [] : [];
  return chunk + outOfLine + 16 + elements.reduce((sum, element) => sum + element.length + 8, 0);
}

const context: CommandContext = {
  store: expiring,
  betweenCheckAndAct: () => {}, // the lock makes check-then-act atomic
  workMs: 0, // --work-ms makes commands heavy: they go to the pool
  serverInfo,
  infoSections,
  shutdown: () => setImmediate(() => void shutdown('SHUTDOWN command')), // after its +OK is sent
  rewriteLogs: () => persister.stats().aof_rewrite_in_progress
    ? error('ERR', 'Background append only file rewriting already in progress') // Redis's words
    : simple(persister.rewrite()),
  memoryUsage,
  config: () => ({
    maxmemory: String(options.maxMemory),
    appendonly: 'yes', // every write is logged (the worker processes' AOF)
    appendfsync: options.durable ? 'always' : 'no',
    'auto-aof-rewrite-percentage': String(options.aofRewritePercentage),
    'auto-aof-rewrite-min-size': String(options.aofRewriteMinSize),
    maxclients: String(options.maxConnections),
    'proto-max-bulk-len': String(options.protoMaxBulkLen),
    'repl-backlog-size': String(options.replBacklogSize),
    'min-replicas-to-write': String(options.minReplicasToWrite),
    'min-replicas-max-lag': String(options.minReplicasMaxLag),
    port: String((server.address() as net.AddressInfo | null)?.port ?? options.port),
    bind: options.host,
    dir: options.dataDir,
  }),
  lists,
  canBlock: true,
};
// Inside EXEC, BLPOP does not wait (Redis's rule).
const inTransaction: CommandContext = { ...context, canBlock: false };

/**
 * THE ONE WAY a write's tasks leave the event loop: to the replication
 * stream and to the persister together. Both put the tasks in sequence order
 * and wait for every number: a task that reached one and not the other would
 * stall the stream for good (every later write held back, replicas frozen).
 * Null when the persister accepted the tasks at once.
 */
function persistAndReplicate(tasks: readonly PersistTask[]): Promise<void> | null {
  replication.feed(tasks);
  return persister.offer(tasks);
}

// Active expiry: every 100 ms, a bounded cycle under the write lock; the
// DEL records of what it reclaimed go to the persister and the stream at once.
const stopActiveExpiry = startActiveExpiry(() => {
  if (store.expiringKeys() === 0) return;
  lock.withWrite(() => activeExpireCycle(expiring));
  void persistAndReplicate(recording.takeTasks());
});

// They need the server's own state, or the lists' elements (on this thread).
const ON_THE_LOOP = new Set(['INFO', 'SHUTDOWN', 'BGREWRITEAOF', 'MEMORY', 'CONFIG', ...Object.keys(LIST_COMMANDS)]);
// Counted by their name in the table: a client sending made-up names must
// not grow the counts without bound.
const commandName = (args: Buffer[]) => commandSpec(args)?.name ?? 'UNKNOWN';
// With --work-ms every command is heavy; --execute pool measures the alternative.
const everyCommandOnPool = options.workMs > 0 || options.execute === 'pool';

function isHeavy(args: Buffer[]): boolean {
  // Asked for every request: the usual answer (not WORK) costs one length check.
  if (!everyCommandOnPool) return args[0]!.length === 4 && commandName(args) === 'WORK';
  if (role.mayRefuseWrites && isWrite(args)) return false; // checked inline (-READONLY, -NOREPLICAS)
  // (with --work-ms, list commands still run here: their elements are on this thread)
  return !ON_THE_LOOP.has(commandName(args));
}

/** One command on the event loop, its lock already held: counted, refused where a replica must (-READONLY), run. */
function countAndRun(args: Buffer[], commandContext: CommandContext, spec = commandSpec(args)) {
  counts.count(spec?.name ?? 'UNKNOWN');
  if (spec?.writes && role.mayRefuseWrites) { const refused = role.refuseWrite(); if (refused) return refused; }
  const reply = executeCommand(args, commandContext, spec);
  // Redis's keyspace_hits and keyspace_misses, for the reads that find a key or not (GET, here on the loop).
  if (spec?.name === 'GET' && reply.type === 'bulk') {
    if (reply.value === null) keyspaceMisses++; else keyspaceHits++;
  }
  return reply;
}

function runInline(args: Buffer[]) {
  const spec = commandSpec(args);
  // Lock even here: a pool thread may be running a command on the store.
  return commandLock.hold(spec?.writes ?? false, () => countAndRun(args, context, spec));
}

// EXEC: the queued commands one after another under the write lock, taken
// once - no other command, here or on a pool thread, runs in between.
const transactions: StoreAccess = {
  exclusive: (body) => lock.withWrite(() => {
    const first = Number(Atomics.load(sequence, 0));
    const result = body((args) => countAndRun(args, inTransaction));
    replication.transaction(first, Number(Atomics.load(sequence, 0)) - 1); // replicas get it as MULTI ... EXEC
    return result;
  }),
};

async function runOnPool(requests: Buffer[][], protocol: 2 | 3) {
  for (const args of requests) counts.count(commandName(args));
  const result = await pool.run(requests, protocol);
  // The pool thread numbered its writes; hand them over at once (the
  // persister restores the numbers' order), and reply once accepted.
  await persistAndReplicate(result.tasks);
  return result;
}

// null when the writes were accepted at once: the replies can leave now.
function takeGate(): Promise<void> | null {
  return persistAndReplicate(recording.takeTasks());
}

// 5b. A replica (--replicaof, REPLICAOF): it writes what the primary sends
//     through the same path as a client's writes (under the write lock,
//     recorded, persisted to our own logs), but never -READONLY.
const role = new ReplicationRole(replication, {
  apply(commands, transaction) {
    lock.withWrite(() => {
      const first = Number(Atomics.load(sequence, 0));
      for (const args of commands) {
        const reply = executeCommand(args, context);
        if (reply.type === 'error') log(`replication: the primary's ${args[0]} failed here: ${reply.code} ${reply.message}`);
      }
      if (transaction) replication.transaction(first, Number(Atomics.load(sequence, 0)) - 1); // our replicas get it as MULTI ... EXEC too
    });
    return takeGate();
  },
  replaceAll(entries) {
    lock.withWrite(() => {
      for (const [key] of store.entries()) context.store.delete(key);
      for (const { key, value, expiresAt } of entries) {
        if (Array.isArray(value)) lists.push(context.store, key, value, false);
        else context.store.set(key, value);
        if (expiresAt !== 0) context.store.setExpiresAt!(key, expiresAt);
      }
    });
    void takeGate();
  },
  listeningPort: () => (server.address() as net.AddressInfo).port,
  roleChanged: (isReplica) => persister.setBatchDelay(batchDelayMs(isReplica)),
}, { minReplicas: options.minReplicasToWrite, maxLagSeconds: options.minReplicasMaxLag });
// 6. Accepting connections. A request may carry arguments up to
//    --proto-max-bulk-len, and a request as a whole up to twice that (a SET
//    with a key and a value both that long).
const parserLimits: ParserLimits = {
  ...DEFAULT_LIMITS,
  maxBulkBytes: options.protoMaxBulkLen,
  maxRequestBytes: Math.max(DEFAULT_LIMITS.maxRequestBytes, 2 * options.protoMaxBulkLen + 1024),
};
let stopping = false;
const server = net.createServer((socket) => {
  if (stopping || connections.size >= options.maxConnections) {
    const reply = stopping
      ? error(ErrorCode.SHUTTING_DOWN, 'the server is shutting down')
      : error(ErrorCode.BUSY, `too many connections (the limit is ${options.maxConnections})`);
    socket.end(encodeReply(reply));
    socket.on('error', () => socket.destroy());
    return;
  }
  const peer = peerName(socket);
  const connection = new ClientConnection(socket, {
    isHeavy, runInline, runOnPool, takeGate, takeBlocked: () => lists.takeBlocked(),
    answered: (requests, us) => latency.record(us, requests),
    replication: (args, client) => role.answer(args, client),
  }, new ClientState(transactions, versions, peerOf(socket)), parserLimits);
  connections.add(connection);
  totalConnections++;
  if (!options.quiet) log(`connection from ${peer} (${connections.size} open)`);
  socket.on('close', () => {
    connections.delete(connection);
    if (!options.quiet) log(`${peer} closed (${connections.size} open)`);
  });
});
server.maxConnections = options.maxConnections + 100; // beyond that the kernel refuses: we answer BUSY first

await listen(server, options.host, options.port);

if (options.replicaof !== '') {
  const [host, port] = options.replicaof.includes(' ') ? options.replicaof.split(/\s+/) : [options.replicaof.split(':')[0], options.replicaof.split(':')[1] ?? positionals[0]];
  if (host === undefined || !(Number(port) > 0)) {
    log(`--replicaof needs 'HOST PORT', got '${options.replicaof}'`);
    process.exit(2);
  }
  role.replicaOf(host, Number(port));
}

// 7. INFO: the figures a person (or `redis-cli INFO`) reads live, in Redis 7's
//    sections and under its names where Redis has the figure (so that
//    `redis-cli --stat` and client libraries read them); the course's own
//    beside them (calls per command, latency, the persister, the pool).
//    `INFO replication`, `INFO server clients`: shared/commands/info.ts.
const opsPerSecond = new RateMeter(() => counts.total);
// Once the commands stop, full garbage collections: the young generation a
// load grew goes back (shared/server/idle-compaction.ts). INFO is not work:
// a monitor polling it (redis-cli --stat) must not keep the server from it.
// This process collects 30 s and 32 s into the quiet, not at the module's
// 1 s and 8 s: a collection makes the next load's SETs slower until the
// heap has grown back, so a server between two benchmark runs seconds
// apart stays ready, and one left alone still gives the memory back
// (measured in docs/store.md).
const idleCompaction = new IdleCompaction(() => counts.total - counts.calls('INFO'), { collectAtMs: [30_000, 32_000] });
function infoSections(): InfoSection[] {
  const self = processFigures(process.pid);
  const uptimeSeconds = Math.floor((Date.now() - startedAt) / 1000);
  const cpu = process.cpuUsage();
  const stats = persister.stats();
  const persistence: InfoFields = { ...stats, aof_rewrites: stats.aof_rewrites + rewritesOfEndedWorkers };
  persister.workerProcesses().forEach((worker, i) => {
    const figures = processFigures(worker.pid);
    persistence[`worker_${i}`] = `pid=${worker.pid},alive=${worker.alive ? 1 : 0},restarts=${worker.restarts},` +
      `cpu_seconds=${figures?.cpuSeconds.toFixed(2) ?? 'n/a'},rss_mb=${figures?.rssMb.toFixed(1) ?? 'n/a'}`;
  });
  const threads: InfoFields = { ...pool.stats() };
  pool.threadFigures().forEach((thread, i) => {
    threads[`pool_thread_${i}`] = `jobs=${thread.jobs},busy_ms=${thread.busyMs}`;
  });
  return [
    { name: 'Server', fields: {
      redis_version: REDIS_VERSION, // the Redis whose commands and protocol we follow (as HELLO says)
      redis_mode: 'standalone',
      os: `${type()} ${release()} ${machine()}`,
      arch_bits: 64,
      process_id: process.pid,
      tcp_port: (server.address() as net.AddressInfo | null)?.port ?? options.port,
      uptime_in_seconds: uptimeSeconds,
      uptime_in_days: Math.floor(uptimeSeconds / 86_400),
      step: '06-worker-pool',
      execute: options.execute,
    } },
    { name: 'Clients', fields: { connected_clients: connections.size, maxclients: options.maxConnections } },
    { name: 'Memory', fields: {
      ...memoryFigures(store, self === null ? undefined : self.rssMb * 1024 * 1024),
      idle_collections: idleCompaction.collections, // ours: the full collections once idle (see above)
    } },
    { name: 'Persistence', fields: persistence },
    { name: 'Stats', fields: {
      total_connections_received: totalConnections,
      total_commands_processed: counts.total,
      instantaneous_ops_per_sec: opsPerSecond.perSecond(),
      keyspace_hits: keyspaceHits,
      keyspace_misses: keyspaceMisses,
      ...counts.summary(),
      ...latency.summary(),
    } },
    { name: 'Replication', fields: role.info() },
    { name: 'CPU', fields: {
      used_cpu_sys: (cpu.system / 1e6).toFixed(6),
      used_cpu_user: (cpu.user / 1e6).toFixed(6),
      server_cpu_seconds: self?.cpuSeconds.toFixed(2) ?? 'n/a', // the whole process: every thread
      server_rss_mb: self?.rssMb.toFixed(1) ?? 'n/a',
    } },
    { name: 'Threads', fields: threads }, // the pool (ours: Redis has no such section)
  ];
}

/** INFO's fields as one list (what steps 01-05 give as serverInfo). */
function serverInfo(): InfoFields {
  return Object.assign({}, ...infoSections().map((section) => section.fields)) as InfoFields;
}

// 8. Graceful shutdown, the same for SIGINT, SIGTERM and SHUTDOWN:
//    1. stop accepting connections;
//    2. each connection: stop reading, finish the requests already received
//       (a pool job included), send their replies, then an unsolicited
//       `-SHUTTING_DOWN ...` (the client prints it in plain words), close;
//    3. drain the queue: the workers write every task, fsync, and exit;
//    4. stop the pool's threads; exit 0.
async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${reason}: shutting down gracefully (${connections.size} connections, ` +
    `${persister.stats().queue_depth} tasks queued); Ctrl+C again stops at once`);
  server.close();
  role.close();
  stopActiveExpiry();
  opsPerSecond.stop();
  await Promise.all([...connections].map((c) => c.drain('your requests received so far were answered; this connection will now close')));
  await persister.close();
  await pool.close();
  log(`stopped: ${persister.stats().tasks_written} tasks written and fsynced since start, ` +
    `${persister.stats().worker_restarts} worker restarts`);
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void shutdown(signal));
}
