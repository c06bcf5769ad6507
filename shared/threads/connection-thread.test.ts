import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { SharedStore } from '../store/shared-store.ts';
import { MAX_IN_FLIGHT_BYTES, serveOnThread, type ConnectionThreadData } from './connection-thread.ts';
import { until } from './test-support.ts';

// The connection-thread mechanism of steps 02 and 03, in-process: a server in
// this test whose connections are served by serveOnThread, so that the test
// can look at the server's side of each socket.

describe('shared/threads/connection-thread: one Worker per connection', () => {
  const store = SharedStore.create({ capacity: 1024 });
  const data: ConnectionThreadData = {
    storeBuffer: store.buffer, lock: 'mutex', raceWindowMs: 0, workMs: 0,
    step: 'test', maxConnections: 10, counters: new Int32Array(new SharedArrayBuffer(4)),
  };
  const serverSockets: net.Socket[] = [];
  let closed = 0;
  let server: net.Server;
  let port: number;

  before(async () => {
    server = net.createServer({ allowHalfOpen: true }, (socket) => {
      serverSockets.push(socket);
      serveOnThread(socket, data, () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => {
    for (const socket of serverSockets) socket.destroy(); // even if a test failed midway
    server.close(() => resolve());
  }));

  /** Connects, writes `input`, half-closes, and resolves with all it received. */
  function exchange(input: string | Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end(input));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
  }

  it('runs commands on the thread, on the store this thread also sees', async () => {
    assert.equal(await exchange('POST shared yes\r\nGET shared\r\n'), '+OK\r\n$3\r\nyes\r\n');
    assert.equal(store.get(Buffer.from('shared'))?.toString(), 'yes');
  });

  it('ends the thread when the client leaves: onClosed runs once per connection', async () => {
    const before = closed;
    await exchange('PING\r\n');
    await until(() => closed === before + 1, 'the thread ended');
    await exchange('QUIT\r\nPING\r\n');
    await until(() => closed === before + 2, 'the thread ended after QUIT');
  });

  it('stops reading from a client while its thread is busy, and loses nothing', async () => {
    // WORK 1000 keeps the thread busy; behind it, far more PINGs than
    // MAX_IN_FLIGHT_BYTES. The main thread must pause the socket (the PINGs
    // wait in the kernel, not in our memory), then answer every one.
    const pings = Math.ceil((4 * MAX_IN_FLIGHT_BYTES) / 6);
    const known = serverSockets.length;
    const socket = net.connect(port, '127.0.0.1');
    await until(() => serverSockets.length > known, 'the server accepted the connection');
    const serverSide = serverSockets[known]!;
    let received = 0;
    socket.on('data', (chunk) => (received += chunk.length));
    try {
      socket.write('WORK 1000\r\n');
      socket.write('PING\r\n'.repeat(pings));
      await until(() => serverSide.isPaused(), 'the server paused the socket', 5000);
      assert.equal(received, 0, 'nothing answered while the thread is busy');
      const expected = '+OK\r\n'.length + pings * '+PONG\r\n'.length;
      await until(() => received === expected, `all ${pings} PONGs arrived`, 20_000);
    } finally {
      socket.destroy();
    }
  });
});
