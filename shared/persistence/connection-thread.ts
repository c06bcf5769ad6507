import { parentPort, workerData } from 'node:worker_threads';
import { executeCommand, isWrite, type CommandContext } from '../commands/commands.ts';
import { Mutex } from '../locks/mutex.ts';
import { RwLock } from '../locks/rwlock.ts';
import { Session } from '../server/session.ts';
import { SharedStore } from '../store/shared-store.ts';
import { RecordingStore } from './recording-store.ts';
import type { PersistTask } from './task.ts';

// The thread of one connection in steps 04 and 05: step 03's connection
// thread, plus one thing - its writes become persistence tasks.
//
// It runs every command on the shared store under the lock, exactly as in
// step 03. The store it sees is wrapped in a RecordingStore, which numbers
// each write while the lock is still held and encodes its log record. After
// each chunk of bytes, the thread sends the main thread the replies *and* the
// tasks of that chunk together; the main thread hands the tasks to the
// persister and sends the replies once the persister accepted them (or, with
// --durable, once they are on disk).
//
//   main -> thread:  Uint8Array   bytes read from the socket
//                    null         the connection ends: answer 'bye'
//   thread -> main:  ChunkResult, then 'bye'

export interface ConnectionThreadData {
  storeBuffer: SharedArrayBuffer;
  sequence: BigInt64Array;
  lock: 'mutex' | 'rw';
  workMs: number;
  /** Figures the main thread keeps up to date, for INFO (see FIGURE_NAMES). */
  figures: Int32Array;
  step: string;
}

export interface ChunkResult {
  bytes: Uint8Array | null;
  close: boolean;
  tasks: PersistTask[];
}

/** What `figures[i]` holds, for INFO. */
export const FIGURE_NAMES = [
  'queue_depth', 'queue_capacity', 'queue_blocked', 'queue_depth_max',
  'sequencer_holding', 'tasks_written', 'connected_clients', 'worker_processes',
] as const;

if (parentPort !== null && workerData?.storeBuffer !== undefined) {
  const data = workerData as ConnectionThreadData;
  const port = parentPort;
  const shared = new SharedStore(data.storeBuffer);
  const store = new RecordingStore(shared, data.sequence);
  const mutex = data.lock === 'mutex' ? new Mutex(shared.lockWords) : null;
  const rwlock = data.lock === 'rw' ? new RwLock(shared.lockWords) : null;

  const context: CommandContext = {
    store,
    betweenCheckAndAct: () => {}, // the lock makes check-then-act atomic
    workMs: data.workMs,
    serverInfo: () => ({
      step: data.step,
      ...Object.fromEntries(FIGURE_NAMES.map((name, i) => [name, Atomics.load(data.figures, i)])),
    }),
  };

  // Every store access under the lock, as in step 03. The sequence numbers
  // are taken inside: that is what makes them the apply order.
  const session = new Session((args) => {
    if (mutex) return mutex.withLock(() => executeCommand(args, context));
    return isWrite(args)
      ? rwlock!.withWrite(() => executeCommand(args, context))
      : rwlock!.withRead(() => executeCommand(args, context));
  });

  port.on('message', (chunk: Uint8Array | null) => {
    if (chunk === null) {
      port.postMessage('bye');
      return;
    }
    const { bytes, close } = session.receive(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    const result: ChunkResult = { bytes, close, tasks: store.takeTasks() };
    port.postMessage(result);
  });
}
