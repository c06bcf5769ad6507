import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FaultProxy } from '../fault-proxy.ts';

// The fault proxy against an echo server: bytes pass, are delayed (in order),
// dropped by a blackhole while the connection stays open, or cut off.

const BOUNDED = { timeout: 20_000 };

async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A client of the proxy that collects what comes back, and can wait for some text or for the close. */
async function client(port: number): Promise<{ socket: net.Socket; received(): string; waitFor(text: string): Promise<void>; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  let received = '';
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => { received += chunk.toString(); for (const w of waiters.splice(0)) w(); });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    received: () => received,
    waitFor: (text) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(text)} within 10 s, got ${JSON.stringify(received)}`)), 10_000);
      const check = () => { if (received.includes(text)) { clearTimeout(timer); resolve(); } else waiters.push(check); };
      check();
    }),
    closed,
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function withProxy(run: (proxy: FaultProxy) => Promise<void>): Promise<void> {
  const echo = await echoServer();
  const proxy = await FaultProxy.start('127.0.0.1', echo.port);
  try {
    await run(proxy);
  } finally {
    await proxy.close();
    await echo.close();
  }
}

describe('the fault proxy', () => {
  it('passes bytes both ways at once, and delays them (in order) when told to', BOUNDED, () => withProxy(async (proxy) => {
    const c = await client(proxy.port);
    c.socket.write('hello');
    await c.waitFor('hello');
    proxy.delay(150);
    const sent = Date.now();
    c.socket.write('a');
    c.socket.write('b');
    c.socket.write('c');
    await c.waitFor('abc');
    // 150 ms to the echo server and 150 ms back (timers fire at the earliest on time; 5 ms for rounding).
    assert.ok(Date.now() - sent >= 295, `a round trip took ${Date.now() - sent} ms through a 150 ms delay each way`);
    assert.equal(c.received(), 'helloabc');
    proxy.heal();
    c.socket.write('!');
    await c.waitFor('abc!');
    c.socket.destroy();
  }));

  it('a blackhole delivers nothing and keeps the connection open; heal delivers what it held, in order', BOUNDED, () => withProxy(async (proxy) => {
    const c = await client(proxy.port);
    c.socket.write('before ');
    await c.waitFor('before ');
    proxy.blackhole();
    c.socket.write('held ');
    await until(() => proxy.heldBytes === 5, 'the proxy to hold "held "');
    assert.equal(c.received(), 'before ', 'held bytes are not delivered');
    assert.equal(proxy.openConnections, 1, 'the blackhole closed nothing');
    proxy.heal();
    c.socket.write('after');
    await c.waitFor('after');
    assert.equal(c.received(), 'before held after');
    c.socket.destroy();
  }));

  it('a cut closes every connection and refuses new ones until heal', BOUNDED, () => withProxy(async (proxy) => {
    const c = await client(proxy.port);
    c.socket.write('x');
    await c.waitFor('x');
    proxy.cut();
    await c.closed;
    const refused = await client(proxy.port);
    await refused.closed; // accepted by the kernel, closed at once by the proxy
    assert.equal(refused.received(), '');
    proxy.heal();
    const again = await client(proxy.port);
    again.socket.write('back');
    await again.waitFor('back');
    assert.equal(proxy.accepted, 2, 'the connection made during the cut was not forwarded');
    again.socket.destroy();
  }));
});
