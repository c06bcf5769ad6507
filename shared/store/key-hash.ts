// FNV-1a, 32 bits, over a key's bytes: the one hash of the course. The
// store's hash table places a key by it; persistence sends a key's writes to
// worker process `hashKey(key) % n` by it; SCAN orders its pages and WATCH
// counts versions per bucket by it. One function, so that they can never
// disagree.

/**
 * The hash as a signed 32-bit integer, what an Int32Array slot holds: the
 * store's tables keep it beside each key and compare it with this.
 */
export function fnv1a(key: Uint8Array): number {
  return fnv1aOf(key, 0, key.length);
}

/** fnv1a of the bytes `bytes[start..end)`, where they lie (no view made: a log rewrite hashes millions of keys in its read buffer). */
export function fnv1aOf(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let k = start; k < end; k++) {
    hash ^= bytes[k]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}

/** The same hash as an unsigned number (0 to 2^32 - 1), for `% n`: which worker process, which bucket. */
export function hashKey(key: Uint8Array): number {
  return fnv1a(key) >>> 0;
}

/**
 * Whether the `key.length` bytes of `memory` from `from` on are `key`'s: how
 * both stores compare the key they look for with one held in their shared
 * memory, after the lengths matched. The caller has checked that those bytes
 * lie inside `memory`.
 */
export function sameKeyBytes(memory: Uint8Array, from: number, key: Buffer): boolean {
  // Short keys: a plain loop beats a call into C++.
  if (key.length <= 32) {
    for (let k = 0; k < key.length; k++) if (memory[from + k] !== key[k]) return false;
    return true;
  }
  return key.compare(memory, from, from + key.length) === 0;
}
