import { parentPort, threadId, workerData } from 'node:worker_threads';
import { executeCommand, type CommandContext } from '../commands/commands.ts';
import { KeyVersions, VersionedStore } from '../commands/key-versions.ts';
import { exclusiveAccess, guardCommands } from '../locks/guard.ts';
import { ClientState } from '../server/client-state.ts';
import { RecordingStore } from '../persistence/recording-store.ts';
import { ownRecords } from '../persistence/task.ts';
import { Session } from '../server/session.ts';
import { SharedStore } from '../store/shared-store.ts';
import type { Store } from '../store/store.ts';
import type { FromThread, ThreadWorkerData, ToThread } from './connection-thread.ts';

// The thread of one connection (steps 02 to 05): started by
// serveOnThread() in connection-thread.ts, which owns the socket and
// forwards its bytes here.
//
// Everything a client asks for runs on THIS thread, in parallel with the
// other connections' threads: parsing, the command, the reply. The only thing
// the threads share is the store's SharedArrayBuffer (and the lock words in
// it). Each thread wraps that buffer in its own SharedStore object.
//
// In steps 04 and 05 (`data.sequence` set) the commands see that store through
// a RecordingStore: each write that changes it takes a sequence number while
// the lock is still held, and becomes a persistence task, sent to the main
// thread with the replies of the same chunk.
//
//   main -> thread   Uint8Array   bytes read from the socket
//                    null         the client is gone: finish and exit
//   thread -> main   { bytes, close, consumed, tasks }   the replies to those bytes

const data = workerData as ThreadWorkerData;
const port = parentPort!;
const shared = new SharedStore(data.storeBuffer);
const recorder = data.sequence === undefined ? null : new RecordingStore(shared, data.sequence);
// Every write also bumps its key's version, for WATCH (key-versions.ts; the
// table is shared by every thread, like the store).
const versions = new KeyVersions(data.versionsBuffer);
const store: Store = new VersionedStore(recorder ?? shared, versions);

// The race window: a real sleep of this thread between a check and its act
// (Atomics.wait on a word nobody ever changes, so it always times out).
const sleepWord = new Int32Array(new SharedArrayBuffer(4));
const raceWindowMs = data.raceWindowMs ?? 0;
const betweenCheckAndAct =
  raceWindowMs > 0 ? () => void Atomics.wait(sleepWord, 0, 0, raceWindowMs) : () => {};

const context: CommandContext = {
  store,
  betweenCheckAndAct,
  workMs: data.workMs,
  serverInfo: () => {
    const problems = shared.check(); // what races did to the table, in words
    return {
      step: data.step,
      thread_id: threadId,
      lock: data.lock,
      ...(data.raceWindowMs === undefined ? {} : { race_window_ms: data.raceWindowMs }),
      connected_clients: Atomics.load(data.counters, 0),
      max_connections: data.maxConnections,
      store_problems: problems.length,
      ...(problems.length > 0 ? { store_first_problem: problems[0]! } : {}),
      ...figures(),
    };
  },
};

/** The main thread's extra figures (steps 04-05: the queue's), as INFO fields. */
function figures(): Record<string, number> {
  if (data.figures === undefined) return {};
  const { names, values } = data.figures;
  return Object.fromEntries(names.map((name, i) => [name, Atomics.load(values, i)]));
}

// Each command runs under the step's lock (or none, in step 02). A write's
// sequence number is taken inside (RecordingStore): lock order is apply order.
// The connection's own state (HELLO's protocol, its name, MULTI's queue,
// WATCH's versions) lives here, in its thread; EXEC runs its queue under the
// step's lock taken once (exclusiveAccess in guard.ts).
const run = (args: Buffer[]) => executeCommand(args, context);
const client = new ClientState(exclusiveAccess(data.lock, shared.lockWords, run, betweenCheckAndAct), versions, data.peer, threadId);
const session = new Session(guardCommands(data.lock, shared.lockWords, run), client);

port.on('message', (message: ToThread) => {
  if (message === null) {
    // Every chunk sent before this was answered (messages arrive in order), so
    // no command is half done, no lock is held, and every sequence number
    // taken was sent with its task: close the port, and with nothing left to
    // do the thread ends.
    session.close();
    port.close();
    return;
  }
  const { bytes, close } = session.receive(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
  // A copy of exactly the reply bytes, moved (not copied again) to the main thread.
  const reply = bytes === null ? null : new Uint8Array(bytes);
  // The tasks travel in the same message as the replies: a reply can never
  // reach the client without its writes having been handed over.
  const tasks = recorder === null ? [] : ownRecords(recorder.takeTasks());
  const out: FromThread = { bytes: reply, close, consumed: message.byteLength, tasks };
  port.postMessage(out, reply === null ? [] : [reply.buffer]);
});
