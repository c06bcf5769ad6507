import assert from 'node:assert/strict';
import type { Connection } from '../../shared/client/connection.ts';
import { until } from './until.ts';

// What a server says in INFO, for tests: every suite and test reads the
// figures through these (a field is `name:value` on a line of its own).

/** INFO (or one section of it, `INFO replication`) as a map from field to value. */
export async function info(connection: Connection, section?: string): Promise<Map<string, string>> {
  const reply = await connection.send(...(section === undefined ? ['INFO'] : ['INFO', section]));
  assert.ok(reply.type === 'bulk' && reply.value !== null, `INFO replies with a bulk string, not ${reply.type}`);
  const fields = new Map<string, string>();
  for (const line of reply.value.toString().split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

/** One field of INFO, or undefined when the server does not show it. */
export async function infoField(connection: Connection, field: string, section?: string): Promise<string | undefined> {
  return (await info(connection, section)).get(field);
}

/** Asks INFO until `field` is `value` (or passes the test `value` is); the last value read is in the failure. */
export async function untilInfo(
  connection: Connection, field: string, value: string | ((shown: string | undefined) => boolean), limitMs = 20_000,
): Promise<void> {
  let shown: string | undefined;
  const wanted = typeof value === 'string' ? (v: string | undefined) => v === value : value;
  await until(async () => wanted(shown = await infoField(connection, field)), `INFO shows ${field}:${typeof value === 'string' ? value : '...'}`,
    limitMs, { detail: () => `${field}:${shown ?? '(not shown)'}` });
}
