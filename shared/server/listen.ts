import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { serveOnWhenOutputCloses } from '../cli/pipe.ts';

/**
 * Starts listening and prints `listening on HOST:PORT`, the line that tests,
 * the tester and people wait for. With port 0 the system picks a free port,
 * and this line is the only way to learn it. A closed stdout or stderr does
 * not stop the server.
 *
 * A port that is taken (often by the server of another step, still running)
 * or not allowed is said in one line, and the process exits with code 2, as
 * for any other bad option; other errors reject.
 */
export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  serveOnWhenOutputCloses(); // `npm run step -- 01 | head -1` must not stop the server
  return new Promise((resolve, reject) => {
    server.once('error', (caught: NodeJS.ErrnoException) => {
      const why = LISTEN_ERRORS[caught.code ?? ''];
      if (why === undefined) return reject(caught);
      console.error(`error: cannot listen on ${host}:${port}: ${why}`);
      process.exit(2);
    });
    server.listen({ host, port }, () => {
      server.removeAllListeners('error');
      const address = server.address() as AddressInfo;
      console.log(`listening on ${address.address}:${address.port}`);
      resolve(address);
    });
  });
}


const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is in use (by another step\'s server still running? stop it, or choose another port with --port N, or --port 0 for any free one)',
  EACCES: 'not allowed (ports below 1024 need privileges: choose --port 1024 or above, or --port 0)',
  EADDRNOTAVAIL: 'no such address on this machine (try --host 127.0.0.1)',
};
