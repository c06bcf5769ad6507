// Log lines go to standard error, so that standard output carries only what
// programs read (the `listening on` line). Each line starts with the time.
// A server's log may be piped into a reader that stops early
// (`npm run step -- 05 2>&1 | head -1`): from its first line on, the server
// goes on serving without it.

import { serveOnWhenOutputCloses } from '../cli/pipe.ts';

serveOnWhenOutputCloses();

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${message}\n`);
}

/** A short name for a connection in logs: `127.0.0.1:53122`. */
export function peerName(socket: { remoteAddress?: string; remotePort?: number }): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
