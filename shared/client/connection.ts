import net from 'node:net';
import { encodeCommand } from '../protocol/encode.ts';
import { ReplyParser } from '../protocol/reply-parser.ts';
import type { Reply } from '../protocol/reply.ts';

// A client connection to any step's server (or to Redis): send a command, get
// a promise of its reply. Several commands may be in flight at once
// (pipelining): replies come back in the order the commands were sent, so
// each reply settles the oldest pending promise.

export type Arg = string | Buffer | number;

export class ConnectionClosedError extends Error {
  constructor(message = 'the server closed the connection') {
    super(message);
    this.name = 'ConnectionClosedError';
  }
}

export class Connection {
  private readonly parser = new ReplyParser();
  private readonly pending: Array<{ resolve(reply: Reply): void; reject(error: Error): void }> = [];
  private closedError: Error | null = null;
  /** Called for each reply that no command was waiting for (a server notice). */
  onUnsolicited: (reply: Reply) => void = () => {};
  /** Called once when the connection ends, with the reason. */
  onClose: (error: Error) => void = () => {};

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let replies: Reply[];
      try {
        replies = this.parser.push(chunk);
      } catch (caught) {
        this.fail(caught as Error);
        return;
      }
      for (const reply of replies) {
        const waiter = this.pending.shift();
        if (waiter) waiter.resolve(reply);
        else this.onUnsolicited(reply);
      }
    });
    socket.on('error', (caught) => this.fail(caught));
    socket.on('close', () => this.fail(new ConnectionClosedError()));
  }

  /** Opens a connection; rejects with a readable message when nobody listens. */
  static open(host: string, port: number, timeoutMs = 5000): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new Connection(socket));
      });
      socket.once('error', (caught: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(caught.code === 'ECONNREFUSED'
          ? new Error(`no server is listening on ${host}:${port} (start one: npm start for step 06, or npm run step -- NN --port ${port})`)
          : caught);
      });
    });
  }

  /** Sends one command and resolves with its reply. */
  send(...args: Arg[]): Promise<Reply> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args.map(toBytes)));
    });
  }

  /** Sends several commands in one write; resolves with their replies in order. */
  pipeline(commands: Arg[][]): Promise<Reply[]> {
    if (this.closedError) return Promise.reject(this.closedError);
    const replies = commands.map(
      () => new Promise<Reply>((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    this.socket.write(Buffer.concat(commands.map((args) => encodeCommand(args.map(toBytes)))));
    return Promise.all(replies);
  }

  /** Sends raw bytes (for tests of malformed input). */
  writeRaw(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Closes the connection; pending commands fail. */
  close(): Promise<void> {
    if (this.closedError) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
    });
  }

  /** Closes at once, like a client that crashes. */
  destroy(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    this.socket.destroy();
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
    this.onClose(error);
  }
}

function toBytes(arg: Arg): string | Buffer {
  return typeof arg === 'number' ? String(arg) : arg;
}
