import { hashKey } from '../store/key-hash.ts';
import type { Store } from '../store/store.ts';

// SCAN's cursor, over the Store interface as it is (a snapshot of entries;
// no method to walk the table's slots).
//
// THE CURSOR is a position in hash order: every key has a fixed 32-bit hash
// (FNV-1a, the one persistence routes by), and a page holds the keys whose
// hash is at or above the cursor, smallest hashes first, about COUNT of them;
// the next cursor is the last hash returned plus one (0: done). Keys with the
// same hash are never split between two pages. So, as Redis promises:
//
// - a key present from the start to the end of a full scan is returned;
// - growth, rehashing or a rewrite of the store cannot make the scan miss or
//   repeat it: a key's hash does not depend on where the store keeps it.
//   (Redis gets the same from its reverse-binary cursor over table slots.)
//   Here a key is even never returned twice.
// - a key added or removed during the scan may or may not be returned.
//
// THE COST: each call takes a snapshot of the whole store (entries()) and
// sorts what is left to scan, O(N log N) per page, where Redis does O(COUNT).
// Fine for the tester's end-of-run dump; a store method that walks its own
// slots in this order would make it O(COUNT) (note for shared/store).

export interface ScanPage {
  keys: Buffer[];
  /** The cursor of the next call; 0 when the scan is complete. */
  next: number;
}

const HASH_SPACE = 2 ** 32;

export function scanPage(store: Store, cursor: number, count: number): ScanPage {
  if (cursor >= HASH_SPACE) return { keys: [], next: 0 };
  const left = store.entries()
    .map(([key]) => ({ key, hash: hashKey(key) }))
    .filter((entry) => entry.hash >= cursor)
    .sort((a, b) => a.hash - b.hash);
  let end = Math.min(count, left.length);
  while (end < left.length && left[end]!.hash === left[end - 1]!.hash) end++; // the whole last hash
  if (end === left.length) return { keys: left.map((entry) => entry.key), next: 0 };
  const next = left[end - 1]!.hash + 1;
  return { keys: left.slice(0, end).map((entry) => entry.key), next };
}
