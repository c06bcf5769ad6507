// What each connection's thread runs (step 03): the client's commands, on the
// store every thread shares, each one holding the store's lock.
//
// serveOnThread() (shared/threads/connection-thread.ts) starts one thread per
// connection from this file; serveThisConnection() (shared/threads/thread-session.ts)
// parses the client's bytes and calls command() for each request.

import { serveThisConnection } from '../../shared/threads/thread-session.ts';
import { commandLock, lockKind } from './command-lock.ts';

serveThisConnection(({ data, shared }) => {
  // The lock's words are in the store's buffer: every thread wraps the same ones.
  const lock = commandLock(lockKind(data.lock), shared.lockWords);
  return {
    // THE LOCK: each command runs holding it, from its check to its act.
    command: (args, run) => lock.command(args, run),
    // EXEC: the whole queue under the lock, taken once.
    exclusive: (body) => lock.exclusive(body),
  };
});
