import { performance } from 'node:perf_hooks';
import { Connection } from '../shared/client/connection.ts';
import type { Dialect } from './dialect.ts';
import type { Operation, TimedOperation } from './operations.ts';

// One simulated client: a connection plus a number, sending the tester's
// operations in a dialect and timing each one. Times are milliseconds from
// one origin shared by every client of a run (performance.now()), so that
// operations of different clients can be placed on one timeline.

export class TesterClient {
  private constructor(
    readonly id: number,
    readonly connection: Connection,
    private readonly dialect: Dialect,
  ) {}

  static async open(id: number, host: string, port: number, dialect: Dialect): Promise<TesterClient> {
    return new TesterClient(id, await Connection.open(host, port), dialect);
  }

  /** Sends one operation, waits for its reply, and says when both happened. */
  async run(op: Operation): Promise<TimedOperation> {
    const invokedAt = performance.now();
    try {
      const reply = await this.connection.send(...this.dialect.request(op));
      return { client: this.id, op, outcome: this.dialect.outcome(op, reply), invokedAt, returnedAt: performance.now() };
    } catch (caught) {
      // No reply: the server may or may not have applied it, at any time after
      // it was sent. The checker treats it as "returned at infinity".
      const text = (caught as Error).message;
      return { client: this.id, op, outcome: { kind: 'noreply', text }, invokedAt, returnedAt: Infinity };
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** Opens `count` clients, numbered from 1. */
export async function openClients(count: number, host: string, port: number, dialect: Dialect): Promise<TesterClient[]> {
  const clients: TesterClient[] = [];
  try {
    for (let id = 1; id <= count; id++) clients.push(await TesterClient.open(id, host, port, dialect));
    // One PING each before any measured or racing operation: a server may need
    // time to set a connection up (a Worker thread per connection takes
    // ~200 ms to start), and that must not count as latency, nor let clients
    // miss the start of the first round.
    await Promise.all(clients.map((client) => client.connection.send('PING')));
  } catch (caught) {
    for (const client of clients) client.connection.destroy();
    throw caught;
  }
  return clients;
}

export async function closeClients(clients: TesterClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}
