import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { serveOnWhenOutputCloses } from '../cli/pipe.ts';

/**
 * Starts listening and prints `listening on HOST:PORT`, the line that tests,
 * the tester and people wait for. With port 0 the system picks a free port,
 * and this line is the only way to learn it. A closed stdout or stderr does
 * not stop the server.
 */
export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  serveOnWhenOutputCloses(); // `npm run step -- 01 | head -1` must not stop the server
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      console.log(`listening on ${address.address}:${address.port}`);
      resolve(address);
    });
  });
}

