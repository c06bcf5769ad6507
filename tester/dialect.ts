import type { Arg, Connection } from '../shared/client/connection.ts';
import { describeReply, type Reply } from '../shared/protocol/reply.ts';
import { describeOperation, type OpKind, type Operation, type Outcome } from './operations.ts';

// How the tester's operations are spoken on the wire. `native` is our
// protocol (POST, PUT, DELETE, DUMP). `redis` is standard Redis, so that a
// real Redis server can serve as the reference the tester is checked against:
//
//   create  POST k v     ->  SET k v NX   (OK, or nil when the key exists)
//   update  PUT k v      ->  SET k v XX   (OK, or nil when the key is absent)
//   delete  DELETE k     ->  DEL k        (1, or 0 when the key was absent)
//   read    GET k        ->  GET k
//   incr    INCR k       ->  INCR k
//   dump    DUMP         ->  SCAN + GET   (fine at the end of a scenario, when
//                                          nothing else runs; SCAN is not atomic)

export interface Dialect {
  name: 'native' | 'redis';
  request(op: Operation): Arg[];
  /** The command as sent, for people: `POST k "v"`, `SET k "v" NX` (the value quoted). */
  describe(op: Operation): string;
  /** The command an operation of this kind is sent as, for sentences without a key: `POST`, `SET NX`. */
  command(kind: OpKind): string;
  outcome(op: Operation, reply: Reply): Outcome;
  /** Every key that starts with `prefix`, with its value. */
  dump(connection: Connection, prefix: string): Promise<Map<string, string>>;
}

export const NATIVE: Dialect = {
  name: 'native',
  request(op) {
    switch (op.kind) {
      case 'create': return ['POST', op.key, op.value!];
      case 'update': return ['PUT', op.key, op.value!];
      case 'read': return ['GET', op.key];
      case 'delete': return ['DELETE', op.key];
      case 'incr': return ['INCR', op.key];
    }
  },
  describe: describeOperation,
  command: (kind) => ({ create: 'POST', update: 'PUT', read: 'GET', delete: 'DELETE', incr: 'INCR' })[kind],
  outcome(op, reply) {
    if (reply.type === 'error') {
      if (op.kind === 'create' && reply.code === 'ALREADY_EXISTS') return { kind: 'exists' };
      if ((op.kind === 'update' || op.kind === 'delete') && reply.code === 'NOT_FOUND') return { kind: 'notfound' };
      return unexpected(reply);
    }
    return commonOutcome(op, reply);
  },
  async dump(connection, prefix) {
    const reply = await connection.send('DUMP');
    if (reply.type !== 'array' || reply.value === null) throw new Error(`DUMP replied ${describeReply(reply)}`);
    const entries = new Map<string, string>();
    for (let i = 0; i + 1 < reply.value.length; i += 2) {
      const key = bulkText(reply.value[i]!);
      if (key !== null && key.startsWith(prefix)) entries.set(key, bulkText(reply.value[i + 1]!) ?? '');
    }
    return entries;
  },
};

export const REDIS: Dialect = {
  name: 'redis',
  request(op) {
    switch (op.kind) {
      case 'create': return ['SET', op.key, op.value!, 'NX'];
      case 'update': return ['SET', op.key, op.value!, 'XX'];
      case 'read': return ['GET', op.key];
      case 'delete': return ['DEL', op.key];
      case 'incr': return ['INCR', op.key];
    }
  },
  describe(op) {
    const value = JSON.stringify(op.value);
    switch (op.kind) {
      case 'create': return `SET ${op.key} ${value} NX`;
      case 'update': return `SET ${op.key} ${value} XX`;
      case 'read': return `GET ${op.key}`;
      case 'delete': return `DEL ${op.key}`;
      case 'incr': return `INCR ${op.key}`;
    }
  },
  command: (kind) => ({ create: 'SET NX', update: 'SET XX', read: 'GET', delete: 'DEL', incr: 'INCR' })[kind],
  outcome(op, reply) {
    if (reply.type === 'error') return unexpected(reply);
    const isNil = reply.type === 'bulk' && reply.value === null;
    if (op.kind === 'create' && isNil) return { kind: 'exists' };
    if (op.kind === 'update' && isNil) return { kind: 'notfound' };
    if (op.kind === 'delete' && reply.type === 'integer') {
      return reply.value === 1 ? { kind: 'ok' } : { kind: 'notfound' };
    }
    return commonOutcome(op, reply);
  },
  async dump(connection, prefix) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const reply = await connection.send('SCAN', cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
      if (reply.type !== 'array' || reply.value === null || reply.value.length !== 2) {
        throw new Error(`SCAN replied ${describeReply(reply)}`);
      }
      cursor = bulkText(reply.value[0]!) ?? '0';
      const page = reply.value[1]!;
      if (page.type === 'array' && page.value) keys.push(...page.value.map((r) => bulkText(r) ?? ''));
    } while (cursor !== '0');
    const unique = [...new Set(keys)]; // SCAN may return a key twice
    const values = unique.length === 0 ? [] : await connection.pipeline(unique.map((key) => ['GET', key]));
    const entries = new Map<string, string>();
    unique.forEach((key, i) => {
      const value = bulkText(values[i]!);
      if (value !== null) entries.set(key, value);
    });
    return entries;
  },
};

export function dialectNamed(name: string): Dialect {
  if (name === 'redis') return REDIS;
  if (name === 'native') return NATIVE;
  throw new Error(`unknown dialect '${name}' (native or redis)`);
}

function commonOutcome(op: Operation, reply: Reply): Outcome {
  switch (op.kind) {
    case 'create':
    case 'update':
    case 'delete':
      return reply.type === 'simple' && reply.value === 'OK' ? { kind: 'ok' } : unexpected(reply);
    case 'read':
      return reply.type === 'bulk' ? { kind: 'value', value: bulkText(reply) } : unexpected(reply);
    case 'incr':
      return reply.type === 'integer' ? { kind: 'integer', value: reply.value } : unexpected(reply);
  }
}

function unexpected(reply: Reply): Outcome {
  return { kind: 'error', text: describeReply(reply) };
}

function bulkText(reply: Reply): string | null {
  return reply.type === 'bulk' && reply.value !== null ? reply.value.toString('utf8') : null;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
