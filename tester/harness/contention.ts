import { Connection } from '../../shared/client/connection.ts';
import type { Reply } from '../../shared/protocol/reply.ts';
import { dumpToMap } from './server-suites.ts';

// Contention rounds for the tests of steps 02 and 03: several clients hit the
// same fresh key at the same moment, and we count what came back.
//
// The start barrier: every client is connected (and its thread started, by a
// PING) before a round, and each round's first requests are all written in
// the same turn of the event loop, so they reach the server within
// microseconds of each other. Without that, clients drift apart by more than
// the race window and races become rare (see docs/race-conditions.md).

/** Opens `count` connections and makes sure each one's thread is up (one PING each). */
export async function openClients(host: string, port: number, count: number): Promise<Connection[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => Connection.open(host, port)));
  await Promise.all(clients.map((c) => c.send('PING')));
  return clients;
}

export async function closeClients(clients: Connection[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close()));
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

/** INFO's fields as a Map (`store_problems` -> '0'). */
export async function info(client: Connection): Promise<Map<string, string>> {
  const reply = await client.send('INFO');
  const text = reply.type === 'bulk' && reply.value !== null ? reply.value.toString() : '';
  return new Map(text.split('\r\n').filter((line) => line.includes(':')).map((line) => {
    const at = line.indexOf(':');
    return [line.slice(0, at), line.slice(at + 1)] as [string, string];
  }));
}

/** DUMP as a Map of key -> value, and DBSIZE: they must agree in a sound store. */
export async function dumpAndSize(client: Connection): Promise<{ dump: Map<string, string>; dbsize: number }> {
  const [dump, size] = await Promise.all([client.send('DUMP'), client.send('DBSIZE')]);
  return { dump: dumpToMap(dump), dbsize: size.type === 'integer' ? size.value : -1 };
}

const isOk = (reply: Reply) => reply.type === 'simple' && reply.value === 'OK';
