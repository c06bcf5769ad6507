import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { newSequence } from '../../shared/persistence/recording-store.ts';
import type { PersistTask } from '../../shared/persistence/task.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import { MAX_IN_FLIGHT_BYTES, serveOnThread, threadFile, type ConnectionThreadData, type ThreadConnection } from '../../shared/threads/connection-thread.ts';
import { until } from '../../tester/harness/until.ts';

// The connection-thread mechanism of steps 02 to 05, in-process: a server in
// this test whose connections are served by serveOnThread, so that the test
// can look at the server's side of each socket. The threads run the steps' own
// thread files: step 03's (a lock) and step 04's (the lock, recording writes).
const STEP_03_THREAD = threadFile(new URL('../03-lock/thread.ts', import.meta.url));
const STEP_04_THREAD = threadFile(new URL('./thread.ts', import.meta.url));

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
      serveOnThread(STEP_03_THREAD, socket, data, () => closed++);
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

// Steps 04 and 05: the thread records writes, and the main thread holds each
// reply until `beforeReply` lets it go (there: the persister accepted its tasks).
describe('shared/threads/connection-thread: recording writes, replies held by beforeReply', () => {
  const store = SharedStore.create({ capacity: 1024 });
  const sequence = newSequence(1);
  const data: ConnectionThreadData = {
    storeBuffer: store.buffer, lock: 'mutex', raceWindowMs: 0, workMs: 0,
    step: 'test', maxConnections: 10, counters: new Int32Array(new SharedArrayBuffer(4)), sequence,
  };
  const connections: Array<{ socket: net.Socket; thread: ThreadConnection; closed: boolean }> = [];
  let calls: Array<readonly PersistTask[]> = [];
  let hold: Promise<void> | null = null; // what the next beforeReply returns
  let server: net.Server;
  let port: number;

  before(async () => {
    server = net.createServer({ allowHalfOpen: true }, (socket) => {
      const connection = { socket, closed: false } as (typeof connections)[number];
      connection.thread = serveOnThread(STEP_04_THREAD, socket, data, () => (connection.closed = true), {
        beforeReply(tasks) {
          calls.push(tasks);
          const held = hold;
          hold = null; // only this chunk's reply
          return held;
        },
      });
      connections.push(connection);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => {
    for (const { socket } of connections) socket.destroy();
    server.close(() => resolve());
  }));

  /** A promise and the function that resolves it. */
  function gate(): { promise: Promise<void>; open: () => void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  }

  async function connect() {
    const known = connections.length;
    const socket = net.connect(port, '127.0.0.1');
    await until(() => connections.length > known, 'the server accepted the connection');
    const received = { text: '' };
    socket.on('data', (chunk) => (received.text += chunk.toString('latin1')));
    return { socket, received, server: connections[known]! };
  }

  it('each chunk\'s writes arrive as tasks numbered in apply order; reads make none', async () => {
    calls = [];
    const { socket, received } = await connect();
    try {
      socket.write('SET x 1\r\nGET x\r\nINCR n\r\n');
      await until(() => received.text.length > 0 && calls.length >= 1, 'the replies');
      socket.write('GET n\r\n');
      await until(() => calls.length >= 2, 'the second chunk');
      assert.equal(calls[0]!.length, 2, 'SET and INCR: two tasks');
      assert.equal(calls[0]![1]!.seq, calls[0]![0]!.seq + 1);
      assert.equal(calls[1]!.length, 0, 'GET: no task');
      await until(() => received.text === '+OK\r\n$1\r\n1\r\n:1\r\n$1\r\n1\r\n', 'all replies');
    } finally {
      socket.destroy();
    }
  });

  it('holds a reply (and every reply after it) until beforeReply resolves, reading nothing meanwhile', async () => {
    calls = [];
    const first = gate();
    hold = first.promise;
    const { socket, received, server: serverSide } = await connect();
    let reads = 0;
    serverSide.socket.on('data', () => reads++);
    try {
      // WORK keeps the thread busy, so the second chunk is read before the
      // first reply comes back and is held; its own reply is not held
      // (beforeReply returns null) but must wait behind the first.
      socket.write('WORK 1000\r\nSET a 1\r\n');
      await until(() => reads === 1, 'the server read the first chunk');
      socket.write('SET b 2\r\n');
      await until(() => reads === 2, 'the server read the second chunk');
      await until(() => calls.length === 2, 'both chunks answered by the thread', 20_000);
      assert.equal(received.text, '', 'nothing is written while the first reply is held');
      assert.ok(serverSide.socket.isPaused(), 'the client is not read while a reply is held');
      socket.write('GET b\r\n');
      first.open();
      await until(() => received.text === '+OK\r\n+OK\r\n+OK\r\n$1\r\n2\r\n', 'the replies, in order');
    } finally {
      socket.destroy();
    }
  });

  it('finish(): the thread answers what it was given, the held reply goes out, then it resolves', async () => {
    calls = [];
    const release = gate();
    hold = release.promise;
    const { socket, received, server: serverSide } = await connect();
    let clientClosed = false;
    socket.on('end', () => (clientClosed = true));
    try {
      socket.write('SET f 1\r\n');
      await until(() => calls.at(-1)?.length === 1 && hold === null, 'the reply is held');
      let finished = false;
      const finishing = serverSide.thread.finish().then(() => (finished = true));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(finished, false, 'a reply is still held');
      release.open();
      await finishing;
      assert.ok(serverSide.closed, 'onClosed ran first');
      await until(() => clientClosed, 'the client saw the end');
      assert.equal(received.text, '+OK\r\n');
    } finally {
      socket.destroy();
    }
  });
});
