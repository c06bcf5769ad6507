import { StoreError, type Store } from './store.ts';
import { fnv1a, sameKeyBytes } from './key-hash.ts';

// A hash table in a SharedArrayBuffer: the store that worker threads share.
//
// A JavaScript object or Map lives in one thread's heap and cannot be shared;
// a SharedArrayBuffer is the one piece of memory several threads can read and
// write at the same time. So this table keeps everything - counters, index,
// keys, values - in raw bytes of one buffer. Each thread wraps the same buffer
// in its own SharedStore object:
//
//   main thread:  const store = SharedStore.create({ capacity: 1000 });
//                 new Worker(url, { workerData: { buffer: store.buffer } });
//   each worker:  const store = new SharedStore(workerData.buffer);
//
// THE LAYOUT (integers are Int32 in the machine's byte order; offsets in bytes)
//
//   0   +-------------------------------------------------------------+
//       | header, 32 words                                            |
//       |  [0] magic 'KVS1'   [1] capacity      [2] slots (power of 2)|
//       |  [3] maxKeyBytes    [4] maxValueBytes [5] recordBytes        |
//       |  [6] size: entries stored          [7] freeTop: free records |
//       |  [16..31] lockWords: free for the caller's locks             |
//  128  +-------------------------------------------------------------+
//       | index: `slots` pairs of words               (open addressing)|
//       |   slot 0: [hash][ref]  slot 1: [hash][ref]  ...              |
//       |   ref 0 = empty slot; ref r > 0 = record r-1                 |
//       +-------------------------------------------------------------+
//       | free stack: `capacity` words; the first freeTop of them are  |
//       |   the numbers of the records not in use                      |
//       +-------------------------------------------------------------+
//       | records: `capacity` records of recordBytes each              |
//       |   [keyLen][valueLen][key: maxKeyBytes][value: maxValueBytes] |
//       +-------------------------------------------------------------+
//
// Why an index separate from the records: an index slot is 8 bytes, so the
// index can have twice as many slots as there are records (a load factor of
// at most 1/2, which keeps probe sequences short) without reserving room for
// keys and values in the empty half. Records never move; only index slots do.
//
// Lookup: hash the key (FNV-1a), start at slot `hash & (slots - 1)` and walk
// forward (linear probing) until the key or an empty slot. Deletion uses
// backward shift, not tombstones: after emptying a slot, later entries of the
// same probe run move back into the hole. Tombstones would pile up under the
// course's create/delete churn and make every miss (every POST checks for a
// miss first) walk over them until some rebuild; with backward shift the table
// looks exactly as if the deleted key had never been there. It only moves
// 8-byte index slots, never records, so it is cheap.
//
// CONCURRENCY. Nothing here is atomic or locked: the methods use plain reads
// and writes. Under a lock that is correct - the lock's Atomics operations are
// the synchronization points, and everything written before an unlock is
// visible after the next lock. Without a lock (step 02, on purpose) two
// threads interleave their plain reads and writes: an update is lost, two
// inserts take the same slot or record, a value is torn. JavaScript still
// gives every read some byte value that was written, never undefined
// behaviour, so the table can be wrong but must not hang or crash: every
// loop is bounded by the number of slots, and every number read from the
// buffer (a ref, a length, a counter) is checked before it is used as an
// offset. A bad one gives StoreError('CORRUPTED'); the geometry (capacity,
// slots, limits) is read once at construction, so a scribbled header cannot
// move an offset out of bounds.

export interface SharedStoreOptions {
  /** The most entries the store holds; one more gives STORE_FULL. Default 65536. */
  capacity?: number;
  /** Longest key, in bytes; longer gives TOO_LARGE. Default 256. */
  maxKeyBytes?: number;
  /** Longest value, in bytes; longer gives TOO_LARGE. Default 1024. */
  maxValueBytes?: number;
}

export type SharedStoreLimits = Required<SharedStoreOptions>;

export const DEFAULT_LIMITS: SharedStoreLimits = {
  capacity: 65536,
  maxKeyBytes: 256,
  maxValueBytes: 1024,
};

const MAGIC = 0x3153564b; // the bytes 'KVS1'
const H_MAGIC = 0;
const H_CAPACITY = 1;
const H_SLOTS = 2;
const H_MAX_KEY = 3;
const H_MAX_VALUE = 4;
const H_RECORD_BYTES = 5;
const H_SIZE = 6;
const H_FREE_TOP = 7;
const LOCK_WORDS_AT = 16;
const HEADER_WORDS = 32;
const RECORD_HEADER_BYTES = 8; // keyLen, valueLen

// find() returns this when it probed every slot without meeting the key or an
// empty slot: impossible at a load factor of 1/2 unless the table is corrupted.
const NO_SLOT = Number.MIN_SAFE_INTEGER;

interface Geometry {
  capacity: number;
  slots: number;
  maxKeyBytes: number;
  maxValueBytes: number;
  recordBytes: number;
  totalBytes: number;
}

function geometry(capacity: number, maxKeyBytes: number, maxValueBytes: number): Geometry {
  let slots = 2;
  while (slots < 2 * capacity) slots *= 2;
  const recordBytes = Math.ceil((RECORD_HEADER_BYTES + maxKeyBytes + maxValueBytes) / 4) * 4;
  const totalBytes = 4 * (HEADER_WORDS + 2 * slots + capacity) + capacity * recordBytes;
  return { capacity, slots, maxKeyBytes, maxValueBytes, recordBytes, totalBytes };
}

// The largest buffer we agree to build: offsets stay well inside Int32 range.
const MAX_TOTAL_BYTES = 2 ** 31 - 1;

export class SharedStore implements Store {
  /** Bytes of SharedArrayBuffer that `create(options)` would allocate. */
  static bytesFor(options: SharedStoreOptions = {}): number {
    const { capacity, maxKeyBytes, maxValueBytes } = checkOptions(options);
    return geometry(capacity, maxKeyBytes, maxValueBytes).totalBytes;
  }

  /** Allocates and formats a new, empty shared table. */
  static create(options: SharedStoreOptions = {}): SharedStore {
    const { capacity, maxKeyBytes, maxValueBytes } = checkOptions(options);
    const g = geometry(capacity, maxKeyBytes, maxValueBytes);
    const buffer = new SharedArrayBuffer(g.totalBytes); // zero-filled: every slot empty
    const i32 = new Int32Array(buffer);
    i32[H_MAGIC] = MAGIC;
    i32[H_CAPACITY] = capacity;
    i32[H_SLOTS] = g.slots;
    i32[H_MAX_KEY] = maxKeyBytes;
    i32[H_MAX_VALUE] = maxValueBytes;
    i32[H_RECORD_BYTES] = g.recordBytes;
    i32[H_SIZE] = 0;
    // Every record is free. Stacked in reverse so record 0 is used first.
    const freeAt = HEADER_WORDS + 2 * g.slots;
    for (let k = 0; k < capacity; k++) i32[freeAt + k] = capacity - 1 - k;
    i32[H_FREE_TOP] = capacity;
    return new SharedStore(buffer);
  }

  /** The shared memory itself: post it to a Worker, which wraps it with `new SharedStore(buffer)`. */
  readonly buffer: SharedArrayBuffer;
  /** The limits this table was created with. */
  readonly limits: SharedStoreLimits;
  /**
   * Int32 words in the header that the store never touches, for a lock that
   * guards it (Mutex needs 1 word, RwLock 5): `new Mutex(store.lockWords)`.
   * One buffer then carries both the table and its lock.
   */
  readonly lockWords: Int32Array;

  private readonly i32: Int32Array; // the whole buffer, as words
  private readonly mem: Buffer; // the whole buffer, as bytes (no copy)
  private readonly capacity: number;
  private readonly slots: number;
  private readonly mask: number;
  private readonly maxKey: number;
  private readonly maxValue: number;
  private readonly recordBytes: number;
  private readonly indexAt: number; // word offset of slot 0
  private readonly freeAt: number; // word offset of the free stack
  private readonly recordsAt: number; // byte offset of record 0

  /** Wraps a buffer formatted by `SharedStore.create` (in this thread or another). */
  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < 4 * HEADER_WORDS) {
      throw new StoreError('CORRUPTED', 'not a shared store: the buffer is too small');
    }
    const i32 = new Int32Array(buffer);
    const capacity = i32[H_CAPACITY];
    const maxKeyBytes = i32[H_MAX_KEY];
    const maxValueBytes = i32[H_MAX_VALUE];
    if (i32[H_MAGIC] !== MAGIC) throw new StoreError('CORRUPTED', 'not a shared store: bad magic number');
    const valid = capacity > 0 && maxKeyBytes >= 0 && maxValueBytes >= 0;
    const g = valid ? geometry(capacity, maxKeyBytes, maxValueBytes) : undefined;
    if (
      g === undefined ||
      g.slots !== i32[H_SLOTS] ||
      g.recordBytes !== i32[H_RECORD_BYTES] ||
      g.totalBytes > buffer.byteLength
    ) {
      throw new StoreError('CORRUPTED', 'not a shared store: inconsistent header');
    }
    this.buffer = buffer;
    this.limits = { capacity, maxKeyBytes, maxValueBytes };
    this.lockWords = new Int32Array(buffer, 4 * LOCK_WORDS_AT, HEADER_WORDS - LOCK_WORDS_AT);
    this.i32 = i32;
    this.mem = Buffer.from(buffer);
    this.capacity = capacity;
    this.slots = g.slots;
    this.mask = g.slots - 1;
    this.maxKey = maxKeyBytes;
    this.maxValue = maxValueBytes;
    this.recordBytes = g.recordBytes;
    this.indexAt = HEADER_WORDS;
    this.freeAt = HEADER_WORDS + 2 * g.slots;
    this.recordsAt = 4 * (this.freeAt + capacity);
  }

  get(key: Buffer): Buffer | undefined {
    if (key.length > this.maxKey) return undefined; // could never have been stored
    const slot = this.find(key, fnv1a(key));
    if (slot < 0) return undefined;
    const at = this.recordByteOffset(this.i32[this.indexAt + 2 * slot + 1]);
    const valueLen = this.i32[(at >> 2) + 1];
    if (valueLen < 0 || valueLen > this.maxValue) throw corrupted(`a value length of ${valueLen}`);
    const out = Buffer.allocUnsafe(valueLen);
    const from = at + RECORD_HEADER_BYTES + this.maxKey;
    // Short values: a plain loop, as in copyInto().
    if (valueLen <= 64) for (let k = 0; k < valueLen; k++) out[k] = this.mem[from + k];
    else this.mem.copy(out, 0, from, from + valueLen);
    return out;
  }

  set(key: Buffer, value: Buffer): void {
    if (key.length > this.maxKey) {
      throw new StoreError('TOO_LARGE', `key is ${key.length} bytes, the limit is ${this.maxKey}`);
    }
    if (value.length > this.maxValue) {
      throw new StoreError('TOO_LARGE', `value is ${value.length} bytes, the limit is ${this.maxValue}`);
    }
    const hash = fnv1a(key);
    const slot = this.find(key, hash);
    if (slot >= 0) {
      // The key exists: overwrite its value in place.
      this.writeValue(this.recordByteOffset(this.i32[this.indexAt + 2 * slot + 1]), value);
      return;
    }
    if (slot === NO_SLOT) throw corrupted('an index with no empty slot');
    // A new key: take a free record, fill it, then point the empty slot at it.
    const top = this.i32[H_FREE_TOP];
    if (top === 0) {
      throw new StoreError('STORE_FULL', `the store holds ${this.capacity} entries, its capacity`);
    }
    if (top < 0 || top > this.capacity) throw corrupted(`a free-record count of ${top}`);
    const record = this.i32[this.freeAt + top - 1];
    if (record < 0 || record >= this.capacity) throw corrupted(`a free record numbered ${record}`);
    this.i32[H_FREE_TOP] = top - 1;
    const at = this.recordsAt + record * this.recordBytes;
    this.i32[at >> 2] = key.length;
    copyInto(this.mem, at + RECORD_HEADER_BYTES, key);
    this.writeValue(at, value);
    const w = this.indexAt + 2 * ~slot;
    this.i32[w] = hash;
    this.i32[w + 1] = record + 1;
    this.i32[H_SIZE] = this.i32[H_SIZE] + 1; // read, add, write: not atomic, and that is the point
  }

  delete(key: Buffer): boolean {
    if (key.length > this.maxKey) return false;
    const slot = this.find(key, fnv1a(key));
    if (slot < 0) return false;
    const record = this.i32[this.indexAt + 2 * slot + 1] - 1; // checked by find()
    const top = this.i32[H_FREE_TOP];
    if (top < 0 || top >= this.capacity) throw corrupted(`a free-record count of ${top} while deleting`);
    this.i32[this.freeAt + top] = record;
    this.i32[H_FREE_TOP] = top + 1;
    this.removeSlot(slot);
    this.i32[H_SIZE] = this.i32[H_SIZE] - 1;
    return true;
  }

  /** O(1): the counter in the header. */
  size(): number {
    const n = this.i32[H_SIZE];
    if (n < 0 || n > this.capacity) throw corrupted(`an entry count of ${n}`);
    return n;
  }

  /** Every readable entry. A slot whose record is corrupted is skipped (see check()). */
  entries(): Array<[Buffer, Buffer]> {
    const out: Array<[Buffer, Buffer]> = [];
    for (let s = 0; s < this.slots; s++) {
      const at = this.validRecord(this.i32[this.indexAt + 2 * s + 1]);
      if (at < 0) continue;
      const keyLen = this.i32[at >> 2];
      const valueLen = this.i32[(at >> 2) + 1];
      const keyFrom = at + RECORD_HEADER_BYTES;
      const valueFrom = keyFrom + this.maxKey;
      out.push([
        Buffer.from(this.mem.subarray(keyFrom, keyFrom + keyLen)),
        Buffer.from(this.mem.subarray(valueFrom, valueFrom + valueLen)),
      ]);
    }
    return out;
  }

  /**
   * A full consistency check, in plain words; [] when the table is sound.
   * O(capacity), for tests and for showing students what a race did.
   */
  check(): string[] {
    const problems: string[] = [];
    const owner = new Int32Array(this.capacity).fill(-1); // record -> slot using it
    const seenKeys = new Set<string>();
    let used = 0;
    for (let s = 0; s < this.slots; s++) {
      const ref = this.i32[this.indexAt + 2 * s + 1];
      if (ref === 0) continue;
      const at = this.validRecord(ref);
      if (at < 0) {
        problems.push(`slot ${s} points to a bad record (ref ${ref}, or bad lengths)`);
        continue;
      }
      used++;
      const record = ref - 1;
      if (owner[record] !== -1) problems.push(`slots ${owner[record]} and ${s} share record ${record}`);
      owner[record] = s;
      const key = this.mem.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + this.i32[at >> 2]);
      const name = key.toString('latin1');
      if (seenKeys.has(name)) problems.push(`key ${JSON.stringify(name)} is stored twice`);
      seenKeys.add(name);
      if (fnv1a(key) !== this.i32[this.indexAt + 2 * s]) {
        problems.push(`slot ${s} holds key ${JSON.stringify(name)} under another key's hash`);
      } else if (!this.reachable(Buffer.from(key))) {
        problems.push(`key ${JSON.stringify(name)} in slot ${s} cannot be found by a lookup`);
      }
    }
    const size = this.i32[H_SIZE];
    if (size !== used) problems.push(`the entry counter says ${size}, the index holds ${used}`);
    const top = this.i32[H_FREE_TOP];
    if (top < 0 || top > this.capacity) {
      problems.push(`the free-record count is ${top}`);
    } else {
      if (top + used !== this.capacity) {
        problems.push(`${top} free records + ${used} in use != capacity ${this.capacity}`);
      }
      for (let k = 0; k < top; k++) {
        const record = this.i32[this.freeAt + k];
        if (record < 0 || record >= this.capacity) problems.push(`the free stack holds ${record}`);
        else if (owner[record] >= 0) problems.push(`record ${record} is both free and in use`);
      }
    }
    return problems;
  }

  private reachable(key: Buffer): boolean {
    try {
      return this.find(key, fnv1a(key)) >= 0;
    } catch {
      return false; // a corrupted record on the way
    }
  }

  // The slot holding `key`; or, when absent, ~slot (< 0) of the empty slot
  // where it would go; or NO_SLOT when every slot was probed (corruption).
  private find(key: Buffer, hash: number): number {
    const i32 = this.i32;
    let s = hash & this.mask;
    for (let n = 0; n < this.slots; n++) {
      const w = this.indexAt + 2 * s;
      const ref = i32[w + 1];
      if (ref === 0) return ~s;
      if (i32[w] === hash && this.keyEquals(ref, key)) return s;
      s = (s + 1) & this.mask;
    }
    return NO_SLOT;
  }

  private keyEquals(ref: number, key: Buffer): boolean {
    const at = this.recordByteOffset(ref);
    const keyLen = this.i32[at >> 2];
    if (keyLen < 0 || keyLen > this.maxKey) throw corrupted(`a key length of ${keyLen}`);
    if (keyLen !== key.length) return false;
    return sameKeyBytes(this.mem, at + RECORD_HEADER_BYTES, key);
  }

  // Byte offset of the record an index ref points to; throws on a bad ref.
  private recordByteOffset(ref: number): number {
    if (ref < 1 || ref > this.capacity) throw corrupted(`an index slot pointing to record ${ref - 1}`);
    return this.recordsAt + (ref - 1) * this.recordBytes;
  }

  // Like recordByteOffset, but -1 instead of throwing, and lengths checked too.
  private validRecord(ref: number): number {
    if (ref < 1 || ref > this.capacity) return -1;
    const at = this.recordsAt + (ref - 1) * this.recordBytes;
    const keyLen = this.i32[at >> 2];
    const valueLen = this.i32[(at >> 2) + 1];
    if (keyLen < 0 || keyLen > this.maxKey || valueLen < 0 || valueLen > this.maxValue) return -1;
    return at;
  }

  private writeValue(recordAt: number, value: Buffer): void {
    // Length and bytes are two separate writes: a reader without a lock can
    // see the new length with old bytes, or half the new bytes (a torn value).
    this.i32[(recordAt >> 2) + 1] = value.length;
    copyInto(this.mem, recordAt + RECORD_HEADER_BYTES + this.maxKey, value);
  }

  private removeSlot(hole: number): void {
    removeIndexSlot(this.i32, this.indexAt, this.slots, hole);
  }
}

/**
 * Backward-shift deletion in a linear-probing index of `slots` [hash][ref]
 * word pairs (a power of two) starting at word `at` of `words`: empties slot
 * `hole`, then walks the probe run after it and moves back every entry whose
 * home slot is not between the hole and itself, so that each entry stays
 * reachable from its home without crossing an empty slot. At most `slots`
 * steps, whatever the words hold. (Used by GrowableStore too.)
 */
export function removeIndexSlot(words: Int32Array, at: number, slots: number, hole: number): void {
  const mask = slots - 1;
  let j = hole;
  for (let n = 1; n < slots; n++) {
    j = (j + 1) & mask;
    const wj = at + 2 * j;
    if (words[wj + 1] === 0) break;
    const home = words[wj]! & mask;
    // Distance from its home to j >= distance from the hole to j: the hole
    // lies on the entry's probe path, so it may move there.
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      const wh = at + 2 * hole;
      words[wh] = words[wj]!;
      words[wh + 1] = words[wj + 1]!;
      hole = j;
    }
  }
  const wh = at + 2 * hole;
  words[wh] = 0;
  words[wh + 1] = 0;
}

// Copies `source` into `target` at byte `at`. Short ones with a plain loop,
// which beats a call into C++ (Buffer.copy) for the few bytes of a typical key.
export function copyInto(target: Buffer, at: number, source: Buffer): void {
  if (source.length <= 64) for (let k = 0; k < source.length; k++) target[at + k] = source[k];
  else source.copy(target, at);
}

function corrupted(what: string): StoreError {
  return new StoreError('CORRUPTED', `the shared table is corrupted (${what}); a race without a lock?`);
}

function checkOptions(options: SharedStoreOptions): SharedStoreLimits {
  const limits = { ...DEFAULT_LIMITS, ...options };
  const { capacity, maxKeyBytes, maxValueBytes } = limits;
  const ok = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
  if (!ok(capacity, 1, 2 ** 24)) throw new RangeError(`capacity must be 1..2^24, got ${capacity}`);
  if (!ok(maxKeyBytes, 0, 2 ** 20)) throw new RangeError(`maxKeyBytes must be 0..2^20, got ${maxKeyBytes}`);
  if (!ok(maxValueBytes, 0, 2 ** 28)) throw new RangeError(`maxValueBytes must be 0..2^28, got ${maxValueBytes}`);
  if (geometry(capacity, maxKeyBytes, maxValueBytes).totalBytes > MAX_TOTAL_BYTES) {
    throw new RangeError('capacity x (maxKeyBytes + maxValueBytes) needs more than 2 GiB');
  }
  return limits;
}
