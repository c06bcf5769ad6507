import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a, hashKey } from './key-hash.ts';

// The published FNV-1a test vectors (32 bits), so that a change to the hash
// (which would move every key to another slot and another worker process) fails here.

test('key hash: FNV-1a 32 matches the published vectors, signed and unsigned', () => {
  const vectors: [string, number][] = [['', 0x811c9dc5], ['a', 0xe40c292c], ['foobar', 0xbf9cf968]];
  for (const [text, expected] of vectors) {
    const key = Buffer.from(text);
    assert.equal(hashKey(key), expected, `hashKey('${text}')`);
    assert.equal(fnv1a(key), expected | 0, `fnv1a('${text}') is the same bits, signed`);
  }
});
