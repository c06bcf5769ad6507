// What each connection's thread runs (step 02): the client's commands, on the
// store every thread shares, with NOTHING between a command and the store.
//
// serveOnThread() (shared/threads/connection-thread.ts) starts one thread per
// connection from this file; serveThisConnection() (shared/threads/thread-session.ts)
// parses the client's bytes and calls command() for each request.

import { serveThisConnection } from '../../shared/threads/thread-session.ts';

serveThisConnection(({ betweenCheckAndAct }) => ({
  // NO LOCK: every thread runs its commands on the store whenever it likes.
  command: (args, run) => run(args),
  // EXEC too: its commands run one after another, and other threads' commands
  // run between them (docs/transactions.md).
  exclusive: (body) => body(),
  betweenCheckAndAct,
}));
