import net from 'node:net';
import type { OptionSpec } from '../cli/options.ts';
import { encodeReply } from '../protocol/encode.ts';
import { ErrorCode, error } from '../protocol/reply.ts';
import {
  serveOnThread, type ConnectionThreadData, type ServeOptions, type ThreadConnection,
} from '../threads/connection-thread.ts';
import { log, peerName } from './log.ts';
import { dropAll } from './shutdown.ts';

// The server around the connection threads of steps 02 to 05: what every one
// of those steps does alike and none of them teaches. It accepts
// connections, turns away those past --max-connections, serves each on a
// thread of its own (serveOnThread, running the step's thread file), keeps
// the count of open connections in shared memory for INFO, and logs.
//
// CONTRACT. threadServer() returns a net.Server that is not listening yet
// (the step calls listen()); `finish()` stops accepting and lets every
// thread answer what it was given (the graceful stop of steps 04-05, which
// must not lose an acknowledged write); `drop()` stops accepting and closes
// every connection at once (steps 02-03: nothing to lose).

/** The options every thread-per-connection step has. */
export const THREAD_SERVER_OPTIONS = {
  maxConnections: {
    type: 'number', default: 100, min: 1, max: 1000,
    help: 'most open connections; each one costs a thread (its cost: docs/figures.md#thread-cost)',
  },
} as const satisfies Record<string, OptionSpec>;

/** Steps 02-03's magnifying glass on the race. */
export const RACE_WINDOW_OPTIONS = {
  raceWindowMs: {
    type: 'number', default: 1, min: 0, max: 10_000,
    help: 'ms a command sleeps between its check and its act: a magnifying glass on the race (0: off)',
  },
} as const satisfies Record<string, OptionSpec>;

export interface ThreadServerOptions {
  /** The step's thread file, from threadFile(new URL('./thread.ts', import.meta.url)). */
  thread: string;
  /** What each connection's thread is given (`counters` is added here). */
  data: Omit<ConnectionThreadData, 'counters'>;
  /** No line per connection in the log. */
  quiet: boolean;
  /** Steps 04-05: hold each chunk's replies until its writes are accepted (ServeOptions). */
  beforeReply?: ServeOptions['beforeReply'];
}

export interface ThreadServer {
  server: net.Server;
  /** Stops accepting; resolves once every thread has answered what it was given and every connection is closed. */
  finish(): Promise<void>;
  /** Stops accepting and closes every connection now; resolves once the server is closed. */
  drop(): Promise<void>;
}

export function threadServer({ thread: file, data, quiet, beforeReply }: ThreadServerOptions): ThreadServer {
  // Open connections, in shared memory so that INFO (run by the threads) can show it.
  const counters = new Int32Array(new SharedArrayBuffer(4));
  const open = new Map<net.Socket, ThreadConnection>(); // each with its thread
  let stopping = false;
  const { maxConnections } = data;

  // allowHalfOpen: a client may finish sending (`printf 'GET k\r\n' | nc ...`)
  // before its thread has answered; we close our side once the answers are out.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const peer = peerName(socket);

    // Threads are expensive (memory, start-up time): past the limit, say so and close.
    if (open.size >= maxConnections || stopping) {
      socket.end(encodeReply(error(ErrorCode.BUSY, `too many connections (the limit is ${maxConnections})`)));
      if (!quiet) log(`${peer} turned away: ${open.size} open, the limit`);
      return;
    }

    // The main thread keeps the socket (it cannot be given to a thread) and
    // forwards bytes; a new Worker thread runs this client's commands on the store.
    const thread = serveOnThread(file, socket, { ...data, counters }, () => {
      open.delete(socket);
      Atomics.store(counters, 0, open.size);
      if (!quiet) log(`${peer} closed, thread ${thread.threadId} ended (${open.size} open)`);
    }, beforeReply === undefined ? {} : { beforeReply });
    open.set(socket, thread);
    Atomics.store(counters, 0, open.size);
    if (!quiet) log(`connection from ${peer} on thread ${thread.threadId} (${open.size} open)`);
  });

  return {
    server,
    async finish() {
      stopping = true;
      server.close();
      await Promise.all([...open.values()].map((thread) => thread.finish()));
    },
    drop() {
      stopping = true;
      return dropAll(server, open.keys());
    },
  };
}
