import { after, before } from 'node:test';
import { Connection } from '../../shared/client/connection.ts';
import type { Reply } from '../../shared/protocol/reply.ts';
import type { RunningServer } from './launch.ts';
import { BOUNDED, dumpToMap } from './server-suites.ts';

// Contention rounds for the tests of steps 02 and 03: several clients hit the
// same fresh key at the same moment, and we count what came back.
//
// The start barrier: every client is connected (and its thread started, by a
// PING) before a round, and each round's first requests are all written in
// the same turn of the event loop, so they reach the server within
// microseconds of each other. Without that, clients drift apart by more than
// the race window and races become rare (see docs/race-conditions.md).

/**
 * Opens `count` connections and makes sure each one's thread is up (one PING
 * each). The same arguments, in the same order, as the tester's openClients
 * (tester/client.ts), which opens the tester's own clients.
 */
export async function openClients(count: number, host: string, port: number): Promise<Connection[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => Connection.open(host, port)));
  await Promise.all(clients.map((c) => c.send('PING')));
  return clients;
}

export async function closeClients(clients: Connection[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
}

/**
 * For a describe block: `count` clients of `server()`, opened (as openClients
 * does) before its tests and closed after them. The array returned is filled
 * in place, so the tests use it as it is.
 */
export function withClients(server: () => RunningServer, count: number): Connection[] {
  const clients: Connection[] = [];
  before(async () => {
    clients.push(...(await openClients(count, server().host, server().port)));
  }, BOUNDED);
  after(() => closeClients(clients.splice(0)), BOUNDED);
  return clients;
}

/** Every client POSTs `key` at once. Resolves with how many got OK. */
export async function postRound(clients: Connection[], key: string): Promise<number> {
  const replies = await Promise.all(clients.map((c, i) => c.send('POST', key, `client${i}`)));
  return replies.filter(isOk).length;
}

/** Every client DELETEs `key` at once. Resolves with how many got OK. */
export async function deleteRound(clients: Connection[], key: string): Promise<number> {
  const replies = await Promise.all(clients.map((c) => c.send('DELETE', key)));
  return replies.filter(isOk).length;
}

/**
 * Every client sends `each` INCRs of `key`, one after another, all clients at
 * once. Resolves with how many were acknowledged and the final value.
 */
export async function incrRound(
  clients: Connection[],
  key: string,
  each: number,
): Promise<{ acknowledged: number; final: number }> {
  const counts = await Promise.all(clients.map(async (c) => {
    let acknowledged = 0;
    for (let i = 0; i < each; i++) if ((await c.send('INCR', key)).type === 'integer') acknowledged++;
    return acknowledged;
  }));
  const final = await clients[0]!.send('GET', key);
  return {
    acknowledged: counts.reduce((a, b) => a + b, 0),
    final: final.type === 'bulk' && final.value !== null ? Number(final.value.toString()) : 0,
  };
}

/** DUMP as a Map of key -> value, and DBSIZE: they must agree in a sound store. */
export async function dumpAndSize(client: Connection): Promise<{ dump: Map<string, string>; dbsize: number }> {
  const [dump, size] = await Promise.all([client.send('DUMP'), client.send('DBSIZE')]);
  return { dump: dumpToMap(dump), dbsize: size.type === 'integer' ? size.value : -1 };
}

const isOk = (reply: Reply) => reply.type === 'simple' && reply.value === 'OK';
