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
  let hash = 0x811c9dc5 | 0;
  for (let k = 0; k < key.length; k++) {
    hash ^= key[k]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}

/** The same hash as an unsigned number (0 to 2^32 - 1), for `% n`: which worker process, which bucket. */
export function hashKey(key: Uint8Array): number {
  return fnv1a(key) >>> 0;
}
