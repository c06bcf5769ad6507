import net from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nobody listens on right now, for a server
 * that cannot be told `--port 0` and announce its port (redis-server). The
 * port is free when this resolves; another process could take it before the
 * caller does, which on one test machine does not happen in practice.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
