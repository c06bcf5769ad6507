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
  stopWithLauncher();
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

/**
 * A server started by shared/server/launch.ts (tests, the tester, the
 * benchmarks) stops when the process that launched it ends, however it ends:
 * even a SIGKILLed test run must leave no server behind. The launcher gives
 * it a stdin pipe that it never writes to; the pipe ends when the launcher's
 * process is gone, and the server then stops as on SIGTERM (gracefully).
 * Started by hand, a server has no such variable and ignores stdin.
 */
function stopWithLauncher(): void {
  if (process.env.KV_STOP_WITH_LAUNCHER !== '1') return;
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
  // Watching must not keep the server alive once it has stopped serving.
  (process.stdin as unknown as { unref?: () => void }).unref?.();
}
