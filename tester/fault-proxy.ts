import net from 'node:net';

// A TCP proxy on 127.0.0.1 (port 0) between a replica and its primary, that
// makes the network faults of the replication scenario on one machine:
//
//   pass       bytes go through at once (the start)
//   delay(ms)  every chunk, either way, goes through ms later (order kept)
//   blackhole  nothing is delivered, either way; the connections stay open,
//              so neither side notices (a partition without a reset). The
//              bytes are held, as TCP would retransmit them: heal() delivers
//              them in order, and a stream is never left with a hole. If
//              either side closes meanwhile, they are lost with the link.
//   cut        every connection is closed and new ones are closed at once,
//              until heal(): the replica sees its link go down
//   heal       back to pass (a cut lets new connections through again)
//
// A fault is made, never hoped for: a write sent while the link is
// blackholed cannot reach the replica, however the processes are scheduled.
// Bytes already queued by delay() keep their order when the mode changes.

export type LinkMode = 'pass' | 'delay' | 'blackhole' | 'cut';

/** One direction of one connection: chunks wait here for their time. */
class Pipe {
  private readonly queue: Array<{ at: number; chunk: Buffer }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly to: net.Socket, private readonly held: () => boolean) {}

  push(chunk: Buffer, delayMs: number): void {
    this.queue.push({ at: Date.now() + delayMs, chunk });
    this.drain();
  }

  /** Delivers what is due (nothing while held), and sets a timer for the rest. */
  drain(): void {
    if (this.timer !== null) return;
    while (this.queue.length > 0 && !this.held()) {
      const wait = this.queue[0]!.at - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => { this.timer = null; this.drain(); }, wait);
        return;
      }
      if (!this.to.destroyed) this.to.write(this.queue.shift()!.chunk);
      else this.queue.shift();
    }
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

export class FaultProxy {
  private mode: LinkMode = 'pass';
  private delayMs = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly pipes = new Set<Pipe>();
  /** Connections accepted since the start (a reconnecting replica adds one). */
  accepted = 0;
  /** Bytes that arrived while the link was blackholed, since the start. */
  heldBytes = 0;

  private constructor(private readonly server: net.Server, readonly port: number, private readonly target: { host: string; port: number }) {}

  /** Listens on 127.0.0.1, port 0, forwarding to host:port. */
  static async start(host: string, port: number): Promise<FaultProxy> {
    let proxy: FaultProxy | null = null;
    const server = net.createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port, { host, port });
    return proxy;
  }

  get linkMode(): LinkMode {
    return this.mode;
  }

  /** Open connections (each link is two sockets: the client's and ours upstream). */
  get openConnections(): number {
    return this.sockets.size / 2;
  }

  delay(ms: number): void {
    this.mode = 'delay';
    this.delayMs = ms;
  }

  blackhole(): void {
    this.mode = 'blackhole';
  }

  cut(): void {
    this.mode = 'cut';
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.mode = 'pass';
    this.delayMs = 0;
    for (const pipe of this.pipes) pipe.drain(); // what a blackhole held, in order
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    for (const pipe of this.pipes) pipe.stop();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode === 'cut') {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    const held = () => this.mode === 'blackhole';
    const toUpstream = new Pipe(upstream, held);
    const toClient = new Pipe(client, held);
    const forward = (pipe: Pipe) => (chunk: Buffer) => {
      if (this.mode === 'blackhole') this.heldBytes += chunk.length;
      pipe.push(chunk, this.mode === 'delay' ? this.delayMs : 0);
    };
    client.on('data', forward(toUpstream));
    upstream.on('data', forward(toClient));
    const pair = [client, upstream];
    for (const socket of pair) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        // One side gone: the other goes too (as a real link would, reset).
        for (const s of pair) { this.sockets.delete(s); s.destroy(); }
        toUpstream.stop();
        toClient.stop();
        this.pipes.delete(toUpstream);
        this.pipes.delete(toClient);
      });
    }
    this.pipes.add(toUpstream);
    this.pipes.add(toClient);
  }
}
