// What each connection's thread runs (steps 04 and 05): step 03's thread, and
// every write that changed the store is recorded as a persistence task.
//
// serveOnThread() (shared/threads/connection-thread.ts) starts one thread per
// connection from this file; serveThisConnection() (shared/threads/thread-session.ts)
// parses the client's bytes and calls command() for each request.

import { ownRecords } from '../../shared/persistence/task.ts';
import { RecordingStore } from '../../shared/persistence/recording-store.ts';
import { serveThisConnection } from '../../shared/threads/thread-session.ts';
import { commandLock, lockKind } from '../03-lock/command-lock.ts';

serveThisConnection(({ data, shared }) => {
  // The lock's words are in the store's buffer: every thread wraps the same ones.
  const lock = commandLock(lockKind(data.lock), shared.lockWords);
  if (data.sequence === undefined) throw new Error('step 04\'s thread needs the shared sequence counter (data.sequence)');
  // NEW: the commands see the store through a RecordingStore. Each write that
  // changes it becomes a task and takes its sequence number from the counter
  // every thread shares - inside command(), so while the lock is held: lock
  // order is apply order (recording-store.ts).
  const recorder = new RecordingStore(shared, data.sequence);
  return {
    store: recorder,
    // THE LOCK: each command runs holding it, from its check to its act.
    command: (args, run) => lock.command(args, run),
    // EXEC: the whole queue under the lock, taken once.
    exclusive: (body) => lock.exclusive(body),
    // NEW: the chunk's writes, sent to the main thread with its replies (a
    // copy each, so the message does not drag the pool's big buffer along).
    takeTasks: () => ownRecords(recorder.takeTasks()),
  };
});
