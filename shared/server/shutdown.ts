import type net from 'node:net';

// Ctrl+C or SIGTERM, for every step: run the step's stop, then exit.
//
// CONTRACT. `stop` runs once, on the first SIGINT or SIGTERM; the process
// exits with status 0 when the promise it returns resolves. A step whose
// stop must not lose anything (steps 04-06) drains in `stop`; steps 01 to 03
// have nothing to drain and close every connection at once (dropAll()).

/** On SIGINT or SIGTERM: awaits `stop`, then exits 0. */
export function exitOnSignal(stop: (signal: NodeJS.Signals) => Promise<void> | void): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, async () => {
      if (stopping) return;
      stopping = true;
      await stop(signal);
      process.exit(0);
    });
  }
}

/** Stops accepting and closes every open connection now; resolves once `server` is closed. */
export function dropAll(server: net.Server, sockets: Iterable<net.Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of sockets) socket.destroy();
  return closed;
}
