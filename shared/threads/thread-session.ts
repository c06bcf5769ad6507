import { parentPort, threadId, workerData } from 'node:worker_threads';
import { executeCommand, type CommandContext } from '../commands/commands.ts';
import { KeyVersions, VersionedStore } from '../commands/key-versions.ts';
import type { Reply } from '../protocol/reply.ts';
import type { PersistTask } from '../persistence/task.ts';
import { ClientState } from '../server/client-state.ts';
import { Session } from '../server/session.ts';
import { SharedStore } from '../store/shared-store.ts';
import type { Store } from '../store/store.ts';
import type { FromThread, ThreadWorkerData, ToThread } from './connection-thread.ts';

// The thread side of one connection (steps 02 to 05): what a connection's
// thread runs once the step's own thread file (steps/02-threads/thread.ts,
// steps/03-lock/thread.ts, steps/04-ipc-queue/thread.ts) has said how a
// command reaches the store. serveOnThread() in connection-thread.ts started
// the thread; it owns the socket and forwards its bytes here.
//
// Everything a client asks for runs on THIS thread, in parallel with the
// other connections' threads: parsing, the command, the reply. The only thing
// the threads share is the store's SharedArrayBuffer (and the lock words in
// it). Each thread wraps that buffer in its own SharedStore object.
//
//   main -> thread   Uint8Array   bytes read from the socket
//                    null         the client is gone: finish and exit
//   thread -> main   { bytes, close, consumed, tasks }   the replies to those bytes
//
// CONTRACT. A step's thread file calls serveThisConnection() once, with a
// function that is given this thread's data and its view of the shared store
// and returns the step's ThreadCommands. Nothing else of the step runs here.

/** Runs one command on the store (executeCommand), taking nothing. */
export type RunCommand = (args: Buffer[]) => Reply;

/** What a step decides about its commands: the one thing steps 02, 03 and 04 differ in here. */
export interface ThreadCommands {
  /** Runs one client command: `run(args)` executes it; the step may hold its lock around it. */
  command(args: Buffer[], run: RunCommand): Reply;
  /**
   * Runs EXEC's queued commands, `body`, holding the step's lock alone, so no
   * other thread's command runs between two of them (none in step 02).
   */
  exclusive<T>(body: () => T): T;
  /** Step 02, which has no lock: the race window between EXEC's check of the watched keys and its commands. */
  betweenCheckAndAct?: () => void;
  /** The store the commands see (default: the shared store). Step 04: a RecordingStore around it. */
  store?: Store;
  /** Step 04: the writes recorded since the last call; they travel with the replies of the same chunk. */
  takeTasks?: () => readonly PersistTask[];
}

/** What a step's thread file is given to build its ThreadCommands. */
export interface ThreadSetup {
  /** This thread's workerData (the step's ConnectionThreadData and more). */
  data: ThreadWorkerData;
  /** This thread's view of the shared store; its lockWords hold the step's lock. */
  shared: SharedStore;
  /** The race window (--race-window-ms): a real sleep of this thread, or nothing. */
  betweenCheckAndAct: () => void;
}

/** Serves the connection this thread was started for, with the step's way of running commands. */
export function serveThisConnection(stepCommands: (setup: ThreadSetup) => ThreadCommands): void {
  const data = workerData as ThreadWorkerData;
  const port = parentPort!;
  const shared = new SharedStore(data.storeBuffer);

  // The race window: a real sleep of this thread between a check and its act
  // (Atomics.wait on a word nobody ever changes, so it always times out).
  const sleepWord = new Int32Array(new SharedArrayBuffer(4));
  const raceWindowMs = data.raceWindowMs ?? 0;
  const betweenCheckAndAct =
    raceWindowMs > 0 ? () => void Atomics.wait(sleepWord, 0, 0, raceWindowMs) : () => {};

  const step = stepCommands({ data, shared, betweenCheckAndAct });
  // Every write also bumps its key's version, for WATCH (key-versions.ts; the
  // table is shared by every thread, like the store).
  const versions = new KeyVersions(data.versionsBuffer);
  const store: Store = new VersionedStore(step.store ?? shared, versions);

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
        ...figures(data),
      };
    },
  };

  // Each command runs the way the step says (under its lock, or not). The
  // connection's own state (HELLO's protocol, its name, MULTI's queue,
  // WATCH's versions) lives here, in its thread; EXEC runs its queue inside
  // step.exclusive, taken once.
  const run: RunCommand = (args) => executeCommand(args, context);
  const client = new ClientState({
    exclusive: (body) => step.exclusive(() => body(run)),
    ...(step.betweenCheckAndAct === undefined ? {} : { betweenCheckAndAct: step.betweenCheckAndAct }),
  }, versions, data.peer, threadId);
  const session = new Session((args) => step.command(args, run), client);

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
    const tasks = step.takeTasks?.() ?? [];
    const out: FromThread = { bytes: reply, close, consumed: message.byteLength, tasks };
    port.postMessage(out, reply === null ? [] : [reply.buffer]);
  });
}

/** The main thread's extra figures (steps 04-05: the queue's), as INFO fields. */
function figures(data: ThreadWorkerData): Record<string, number> {
  if (data.figures === undefined) return {};
  const { names, values } = data.figures;
  return Object.fromEntries(names.map((name, i) => [name, Atomics.load(values, i)]));
}
