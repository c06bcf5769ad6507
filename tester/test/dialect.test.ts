import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inDialect, NATIVE, REDIS } from '../dialect.ts';
import type { Operation } from '../operations.ts';

// How each dialect names an operation for people: the command it sends.

const ops: Operation[] = [
  { kind: 'create', key: 'k', value: 'v1' },
  { kind: 'update', key: 'k', value: 'v2' },
  { kind: 'delete', key: 'k2' },
  { kind: 'read', key: 'k' },
  { kind: 'incr', key: 'n' },
];

test('describe: our command names, or the Redis commands sent (SET ... NX, SET ... XX, DEL)', () => {
  assert.deepEqual(ops.map((op) => NATIVE.describe(op)), ['POST k "v1"', 'PUT k "v2"', 'DELETE k2', 'GET k', 'INCR n']);
  assert.deepEqual(ops.map((op) => REDIS.describe(op)), ['SET k "v1" NX', 'SET k "v2" XX', 'DEL k2', 'GET k', 'INCR n']);
});

test('inDialect: a sentence in our names says the commands the dialect sent, and only for whole operations', () => {
  const sentence = `client 1's POST k "v1" -> OK, then PUT k "v2" -> OK; DELETE k2 -> OK; DELETE k -> NOT_FOUND; PUT k "v22"`;
  assert.equal(inDialect(REDIS, sentence, ops),
    `client 1's SET k "v1" NX -> OK, then SET k "v2" XX -> OK; DEL k2 -> OK; DELETE k -> NOT_FOUND; PUT k "v22"`);
  assert.equal(inDialect(NATIVE, sentence, ops), sentence);
  assert.equal(inDialect(REDIS, 'DELETE k2x', ops), 'DELETE k2x', 'not inside a longer key');
});
