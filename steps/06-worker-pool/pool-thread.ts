// One thread of step 06's bounded pool.
//
// It does not own a connection (steps 02-05 gave every connection a thread of
// its own). It receives jobs - a few parsed requests of some connection that
// are too heavy for the event loop - runs them on the shared store under the
// same read-write lock as the event loop, and sends back the encoded replies
// and the persistence tasks of the writes, as step 05's connection threads
// did.
//
//   main -> thread:  Job[]        every job of one turn of the event loop
//   thread -> main:  JobResult[]  their results, in the same order

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { executeCommand, type CommandContext } from '../../shared/commands/commands.ts';
import { burnCpu } from '../../shared/commands/burn-cpu.ts';
import { RwLock } from '../../shared/locks/rwlock.ts';
import { readWriteCommandLock } from '../03-lock/command-lock.ts';
import { KeyVersions, VersionedStore } from '../../shared/commands/key-versions.ts';
import { ReplyWriter, type Protocol } from '../../shared/protocol/encode.ts';
import { ErrorCode, error } from '../../shared/protocol/reply.ts';
import { BufferRegistry } from '../../shared/store/buffer-registry.ts';
import { GrowableStore, type GrowableStoreHandle } from '../../shared/store/growable-store.ts';
import { RecordingStore } from '../../shared/persistence/recording-store.ts';
import { ExpiringStore } from '../../shared/commands/expiry.ts';
import { ownRecords, type PersistTask } from '../../shared/persistence/task.ts';

export interface PoolThreadData {
  /** The store's shared buffers (GrowableStore.handle). */
  storeHandle: GrowableStoreHandle;
  /** This thread's ports to every other thread's BufferRegistry (BufferRegistry.mesh). */
  registryPorts: MessagePort[];
  sequence: BigInt64Array;
  /** CPU every request burns, in ms (--work-ms), before it takes the lock. */
  workMs: number;
  /** WATCH's key versions (sharedKeyVersions().buffer): a write here bumps them too. */
  versionsBuffer: SharedArrayBuffer;
}

export interface Job {
  id: number;
  /** Requests of one connection, in order: each is [name, ...arguments]. */
  requests: Uint8Array[][];
  /** The connection's RESP version (HELLO), for the replies. */
  protocol: Protocol;
}

export interface JobResult {
  id: number;
  /** The replies, encoded, in the order of the requests. */
  bytes: Uint8Array;
  /** The writes' persistence tasks, numbered under the lock. */
  tasks: readonly PersistTask[];
}

/** Commands that never touch the store: they run without the lock. */
const LOCK_FREE = new Set(['WORK', 'PING']);

if (parentPort !== null && workerData?.storeHandle !== undefined) {
  const data = workerData as PoolThreadData;
  const port = parentPort;
  const shared = new GrowableStore(data.storeHandle, new BufferRegistry(data.registryPorts));
  const store = new RecordingStore(shared, data.sequence);
  // As on the event loop: expired keys hidden (a read here never deletes).
  const versioned = new ExpiringStore(new VersionedStore(store, new KeyVersions(data.versionsBuffer)));
  // Step 03's read-write lock on the store's lock words (the event loop wraps the same words).
  const lock = readWriteCommandLock(new RwLock(shared.lockWords));
  const context: CommandContext = {
    store: versioned,
    betweenCheckAndAct: () => {}, // the lock makes check-then-act atomic
    workMs: 0, // burned below, outside the lock
    serverInfo: () => ({}), // INFO runs on the event loop
  };

  const run = (args: Buffer[]) => {
    // The heavy part first, holding no lock: the event loop, which takes the
    // same lock for every fast command, must never wait for our computing.
    if (data.workMs > 0) burnCpu(data.workMs);
    if (LOCK_FREE.has(args[0]!.toString('latin1').toUpperCase())) return executeCommand(args, context);
    return lock.command(args, (command) => executeCommand(command, context));
  };

  const replies = new ReplyWriter();
  port.on('message', (jobs: Job[]) => {
    const results: JobResult[] = jobs.map(({ id, requests, protocol }) => {
      replies.protocol = protocol;
      for (const request of requests) {
        const args = request.map((arg) => Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength));
        try {
          replies.reply(run(args));
        } catch (caught) {
          // A bug outside the command itself: answer it, keep the thread alive.
          replies.reply(error(ErrorCode.INTERNAL_ERROR, `the pool thread failed on this request (${(caught as Error).message})`));
        }
      }
      // Copies of exactly the bytes: a view would send its whole buffer along.
      return { id, bytes: new Uint8Array(replies.take()), tasks: ownRecords(store.takeTasks()) };
    });
    port.postMessage(results, results.map((result) => result.bytes.buffer as ArrayBuffer));
  });
}
