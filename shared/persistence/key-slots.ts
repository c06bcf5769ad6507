// A key's slot number, found by the key's bytes where they lie: the index a
// log rewrite folds millions of records into (LiveKeys in log-rewrite.ts).
//
// A Map<string, number> would do the same, but each lookup would first make
// a string of the key's bytes (a copy, then the string's hash): under
// redis-benchmark's load that was about half of what a rewrite cost its
// worker process. Here a key is hashed where it lies in the read buffer
// (fnv1a, the course's one hash) and compared byte for byte with the copy
// kept when its slot was made; nothing is allocated per record.
//
// The table is open addressing with linear probing, at most half full: an
// entry is the key's hash beside its slot, so a probe reads one place in
// memory and the key's copy is read only when the hashes match. With 100,000
// keys the lookups are cache misses, and each one saved counts: chained
// buckets (a bucket, then the slot's hash, then its key) made a rewrite of
// redis-benchmark's -r 100000 load spend two fifths of its time here.
//
// Contract: slots are 0, 1, 2, ... in the order keys are added, and a
// removed key's slot is given to the next new key (the caller keeps its
// figures in arrays indexed by slot). keyOf(slot) is a view of this index's
// own copy, valid until the next add().

import { fnv1aOf } from '../store/key-hash.ts';

const NONE = -1;
const EMPTY = 0; // an entry's slot field: never used (slots are stored plus one)
const REMOVED = -1; // once used, its key removed: probes go on past it

export class KeySlots {
  private table = new Int32Array(2 * 2048); // entries: [hash, slot + 1 | EMPTY | REMOVED]
  private removedEntries = 0;
  private entryOf = new Int32Array(1024); // slot -> its entry in `table`
  private spans = new Float64Array(3 * 1024); // slot -> [where its key's copy starts in `keys`, its length, the room there]
  private keys = Buffer.allocUnsafeSlow(16 * 1024); // the keys' copies, end to end
  private keysEnd = 0;
  private readonly free: number[] = []; // slots of removed keys
  private slotsMade = 0;
  private live = 0;

  /** How many keys are in the index. */
  get size(): number {
    return this.live;
  }

  /** How many slots were ever made: every slot is below this. */
  get slotCount(): number {
    return this.slotsMade;
  }

  /** The slot of the key `bytes[start..end)`, or -1. */
  find(bytes: Uint8Array, start: number, end: number): number {
    const hash = fnv1aOf(bytes, start, end);
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    for (let entry = hash & mask; ; entry = (entry + 1) & mask) {
      const stored = table[2 * entry + 1]!;
      if (stored === EMPTY) return NONE;
      if (stored !== REMOVED && table[2 * entry] === hash && this.holds(stored - 1, bytes, start, end)) return stored - 1;
    }
  }

  /** The key's slot, made (or a removed key's, reused) if it had none. */
  add(bytes: Uint8Array, start: number, end: number): number {
    const hash = fnv1aOf(bytes, start, end);
    const table = this.table;
    const mask = (table.length >> 1) - 1;
    let reusable = NONE; // the first REMOVED entry on the way: the new key goes there
    let entry = hash & mask;
    for (; ; entry = (entry + 1) & mask) {
      const stored = table[2 * entry + 1]!;
      if (stored === EMPTY) break;
      if (stored === REMOVED) {
        if (reusable === NONE) reusable = entry;
      } else if (table[2 * entry] === hash && this.holds(stored - 1, bytes, start, end)) {
        return stored - 1;
      }
    }
    if (reusable !== NONE) {
      entry = reusable;
      this.removedEntries--;
    }
    const slot = this.free.pop() ?? this.newSlot();
    const length = end - start;
    const spans = this.spans;
    if (length > spans[3 * slot + 2]!) {
      spans[3 * slot] = this.room(length);
      spans[3 * slot + 2] = length;
    } // (else a reused slot keeps its room: the new key fits in it)
    spans[3 * slot + 1] = length;
    this.keys.set(bytes.subarray(start, end), spans[3 * slot]!);
    table[2 * entry] = hash;
    table[2 * entry + 1] = slot + 1;
    this.entryOf[slot] = entry;
    if (2 * (++this.live + this.removedEntries) > table.length >> 1) this.rehash();
    return slot;
  }

  /** Removes the key in `slot` (a slot add() or find() gave); its slot goes to a later key. */
  remove(slot: number): void {
    this.table[2 * this.entryOf[slot]! + 1] = REMOVED;
    this.removedEntries++;
    this.free.push(slot);
    this.live--;
  }

  /** The key in `slot`, a view of this index's copy. */
  keyOf(slot: number): Buffer {
    const at = this.spans[3 * slot]!;
    return this.keys.subarray(at, at + this.spans[3 * slot + 1]!);
  }

  /** Every slot that holds a key, in no particular order. */
  liveSlots(): Int32Array {
    const slots = new Int32Array(this.live);
    let i = 0;
    for (let entry = 1; entry < this.table.length; entry += 2) {
      const stored = this.table[entry]!;
      if (stored !== EMPTY && stored !== REMOVED) slots[i++] = stored - 1;
    }
    return slots;
  }

  private holds(slot: number, bytes: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (this.spans[3 * slot + 1] !== length) return false;
    const at = this.spans[3 * slot]!;
    const keys = this.keys;
    if (length <= 32) {
      for (let k = 0; k < length; k++) if (keys[at + k] !== bytes[start + k]) return false;
      return true;
    }
    return keys.compare(bytes, start, end, at, at + length) === 0;
  }

  /** Room for `length` more key bytes at the end of `keys`: where it starts. */
  private room(length: number): number {
    if (this.keysEnd + length > this.keys.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.keys.length * 2, this.keysEnd + length));
      this.keys.copy(bigger, 0, 0, this.keysEnd);
      this.keys = bigger;
    }
    const at = this.keysEnd;
    this.keysEnd += length;
    return at;
  }

  private newSlot(): number {
    const slot = this.slotsMade++;
    if (slot === this.entryOf.length) {
      const entryOf = new Int32Array(2 * slot);
      entryOf.set(this.entryOf);
      this.entryOf = entryOf;
      const spans = new Float64Array(3 * 2 * slot);
      spans.set(this.spans);
      this.spans = spans;
    }
    this.spans[3 * slot + 2] = -1; // no room yet (so that even an empty key gets its place)
    return slot;
  }

  /** A table twice as large (or as large, when removed entries filled it), without the removed entries. */
  private rehash(): void {
    const old = this.table;
    const entries = 2 * this.live > old.length >> 2 ? old.length : old.length >> 1;
    const table = new Int32Array(2 * entries);
    const mask = entries - 1;
    for (let i = 0; i < old.length; i += 2) {
      const stored = old[i + 1]!;
      if (stored === EMPTY || stored === REMOVED) continue;
      let entry = old[i]! & mask;
      while (table[2 * entry + 1] !== EMPTY) entry = (entry + 1) & mask;
      table[2 * entry] = old[i]!;
      table[2 * entry + 1] = stored;
      this.entryOf[stored - 1] = entry;
    }
    this.table = table;
    this.removedEntries = 0;
  }
}
