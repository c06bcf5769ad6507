// Log lines go to standard error, so that standard output carries only what
// programs read (the `listening on` line). Each line starts with the time.

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${message}\n`);
}

/** A short name for a connection in logs: `127.0.0.1:53122`. */
export function peerName(socket: { remoteAddress?: string; remotePort?: number }): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
