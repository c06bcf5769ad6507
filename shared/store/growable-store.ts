import { BufferRegistry } from './buffer-registry.ts';
import { copyInto, removeIndexSlot } from './shared-store.ts';
import { fnv1a, sameKeyBytes } from './key-hash.ts';
import { StoreError, type Store } from './store.ts';

// Step 06's store: a hash table in shared memory that grows and shrinks with
// its data. Keys and values of any length up to 512 MB, as many keys as
// memory allows, memory in proportion to what is stored.
//
// Steps 02-05 keep SharedStore (shared-store.ts): one fixed buffer, fixed
// slots, a page of code a student reads in one sitting, because those steps
// are about the races on it. This one is the same idea - an open-addressing
// index pointing at records in shared memory - with an allocator under it.
//
// FOUR KINDS OF BUFFER (all SharedArrayBuffers, shared by every thread)
//
//   control   4 KB, fixed: counters, the lock's words, the allocator's lists
//   arena     one GROWABLE buffer (grow() up to 4 GB; every thread's view
//             sees the new length): the records, carved into 1 MB pages
//   index     its own buffer, replaced by one twice (or half) the size when
//             the table fills up (or empties): [hash][ref] pairs
//   out of line  a key or value longer than 64 KB lives in a buffer of its
//             own; freeing it gives the memory back to the system
//
// A growable SharedArrayBuffer can grow, never shrink, so what must be able
// to shrink - the index, and the big values that dominate memory when there
// are any - lives in buffers of its own, numbered and found through a
// BufferRegistry (buffer-registry.ts), which hands them between threads.
//
// THE ALLOCATOR (as memcached's slabs). A record's size is rounded up to one
// of 38 size classes, each about 1.25 times the last (32, 40, 56, 72, 96,
// 120, 152, ... bytes up to 128 KB), so at most a fifth of a chunk is
// rounding. A class takes chunks from a 1 MB page of its own, carved from the
// end of the arena; a freed chunk goes on its class's free list and the next
// record of that class takes it. Allocating and freeing are O(1) and never
// move a record. The cost, as in memcached: a page stays with the class that
// took it, so memory freed in one class is not reused by another (INFO's
// store_fragmentation_ratio shows it).
//
// A RECORD (one chunk of the arena, 8-byte aligned; offsets in bytes):
//
//    0  keyLength    int32   bytes of the key
//    4  valueLength  int32   bytes of the value
//    8  expiresAt    float64 ms since 1970 when the key expires, 0 = never
//                            (set() keeps it, delete() drops it; hiding and
//                            reclaiming expired keys: shared/commands/expiry.ts)
//   16  type         uint8   1 = string, 2 = list (its elements live beside
//                            the store: shared/store/lists.ts)
//   17  flags        uint8   1 = key out of line, 2 = value out of line
//   18  sizeClass    uint8   the class of this chunk
//   19  -            uint8   0
//   20  -            int32   0, reserved
//   24  key          the key's bytes, or 4 bytes: the number of its buffer
//       value        the value's bytes, or 4 bytes: the number of its buffer
//
// A free chunk has keyLength -1 and, at offset 4, the ref of the next free
// chunk of its class (0 = end). A ref is (byte offset / 8) + 1, so 0 means
// none and an int32 reaches every byte of a 4 GB arena.
//
// MEMORY. used_memory (INFO) is what the data takes: the chunks of the live
// records, the out-of-line buffers, the index and the control block.
// Reserved memory adds the carved pages' unused chunks; the pages an arena
// has never written to cost address space, not RAM. Past maxMemory, set()
// throws StoreError('OOM') (Redis's rule: a write is refused while used
// memory is over the limit; deletes always work).
//
// CONCURRENCY. As SharedStore: plain reads and writes, exact under a lock
// (step 06's read-write lock lives in the control block's words); without a
// lock it may be wrong but never hangs or crashes. Every loop is bounded
// (by the slots, or by a free list's chunk count), and every number read from
// shared memory - a ref, a length, a class, a buffer number, a cursor - is
// checked against the real length of the buffer it points into before use;
// a bad one gives StoreError('CORRUPTED'). Only the write lock may grow the
// arena or replace the index; readers only read.

export interface GrowableStoreOptions {
  /** Refuse writes (StoreError 'OOM') while used memory is over this many bytes. Default: no limit. */
  maxMemory?: number;
  /** The arena's largest size, in bytes (address space reserved, not RAM). Default 4 GB, the most. */
  maxArenaBytes?: number;
}

/** What a thread needs to open the store that another thread created. */
export interface GrowableStoreHandle {
  control: SharedArrayBuffer;
  arena: SharedArrayBuffer;
}

/** Redis's limit for one bulk string, and ours for one key or value. */
export const MAX_ITEM_BYTES = 512 * 1024 * 1024;
/** Keys and values longer than this live in buffers of their own. */
export const OUT_OF_LINE_BYTES = 64 * 1024;
/** Bytes the arena gives a size class at a time. */
export const PAGE_BYTES = 1 << 20;
/** Bytes of a record before its key: see the layout above. */
export const RECORD_HEADER_BYTES = 24;
export const TYPE_STRING = 1;

const FLAG_KEY_OUT = 1;
const FLAG_VALUE_OUT = 2;
const FREE = -1;
const MAX_ARENA_BYTES = 2 ** 32;
const MIN_SLOTS = 64;
const MAX_SLOTS = 2 ** 28; // an index of 2 GB: 134 million keys

// The size classes: 32 bytes, then each 1.25 times the last (8-byte
// multiples), up to the largest record kept in line.
const LARGEST_INLINE_RECORD = RECORD_HEADER_BYTES + 2 * OUT_OF_LINE_BYTES;
export const CLASS_BYTES: readonly number[] = (() => {
  const sizes = [32];
  while (sizes[sizes.length - 1]! < LARGEST_INLINE_RECORD) {
    const next = Math.ceil((sizes[sizes.length - 1]! * 1.25) / 8) * 8;
    sizes.push(Math.min(next, Math.ceil(LARGEST_INLINE_RECORD / 8) * 8));
  }
  return sizes;
})();
const CLASSES = CLASS_BYTES.length;
// The class of a record of n bytes: CLASS_OF[(n + 7) >>> 3]. One table lookup.
const CLASS_OF = (() => {
  const table = new Uint8Array((CLASS_BYTES[CLASSES - 1]! >>> 3) + 1);
  let c = 0;
  for (let units = 0; units < table.length; units++) {
    while (CLASS_BYTES[c]! < units * 8) c++;
    table[units] = c;
  }
  return table;
})();

// The control block: Int32 words, then Float64 figures.
const MAGIC = 0x3147564b; // 'KVG1'
const C_MAGIC = 0;
const C_SIZE = 1; // entries stored
const C_INDEX_ID = 2; // number of the index's buffer
const C_NEXT_ID = 3; // next buffer number to hand out
const C_PAGES = 4; // pages carved from the arena
const C_EXPIRES = 5; // entries with an expiry time (INFO's expires=)
const LOCK_WORDS_AT = 16; // 16 words for the caller's lock
const LOCK_WORDS = 16;
const C_CLASSES_AT = 32; // per class: [free list head ref, free count, carve cursor ref, carve end ref]
const CLASS_WORDS = 4;
const F_AT = 256; // Float64 index of the figures (byte 2048)
const F_CHUNK_BYTES = F_AT + 0; // bytes of the chunks in use
const F_OUT_OF_LINE_BYTES = F_AT + 1; // bytes of the out-of-line buffers
const F_PEAK = F_AT + 2; // the largest used memory seen
const F_MAX_MEMORY = F_AT + 3; // 0 = no limit
const F_BESIDE_BYTES = F_AT + 4; // bytes held beside the store for its keys: lists' elements (lists.ts)
export const CONTROL_BYTES = 4096;

// find() returns this when it probed every slot without meeting the key or an
// empty slot: impossible at a load factor of 1/2 unless the table is corrupted.
const NO_SLOT = Number.MIN_SAFE_INTEGER;

export class GrowableStore implements Store {
  /** A new, empty store. `registry`: this thread's (see BufferRegistry.mesh). */
  static create(options: GrowableStoreOptions = {}, registry = new BufferRegistry()): GrowableStore {
    const maxArenaBytes = options.maxArenaBytes ?? MAX_ARENA_BYTES;
    if (!Number.isInteger(maxArenaBytes) || maxArenaBytes < PAGE_BYTES || maxArenaBytes > MAX_ARENA_BYTES) {
      throw new RangeError(`maxArenaBytes must be from 1 MB to 4 GB, got ${maxArenaBytes}`);
    }
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const arena = new SharedArrayBuffer(0, { maxByteLength: Math.floor(maxArenaBytes / PAGE_BYTES) * PAGE_BYTES });
    const words = new Int32Array(control);
    words[C_MAGIC] = MAGIC;
    words[C_NEXT_ID] = 1;
    const store = new GrowableStore({ control, arena }, registry);
    store.replaceIndex(MIN_SLOTS);
    store.maxMemory = options.maxMemory ?? 0;
    return store;
  }

  /** Post this to another thread; it opens the store with `new GrowableStore(handle, itsRegistry)`. */
  readonly handle: GrowableStoreHandle;
  /** 16 Int32 words the store never touches, for the lock that guards it: `new RwLock(store.lockWords)`. */
  readonly lockWords: Int32Array;

  private readonly control: Int32Array;
  private readonly figures: Float64Array;
  private readonly arena: SharedArrayBuffer;
  // The arena as Int32 words, Float64s and bytes. Views of a fixed length,
  // remade when the arena has grown: a view that tracks a growable buffer's
  // length costs about 25 ns a read on Node 20, a fixed one 2-5 ns.
  private words!: Int32Array;
  private f64!: Float64Array;
  private mem!: Buffer;
  private foundAt = 0; // the record find() last matched (checked by recordAt)
  private sampleCursor = 0; // where sampleExpiring() goes on (active expiry)
  private indexId = -1;
  private index: Int32Array = new Int32Array(0);
  private slots = 0;
  private mask = 0;

  constructor(handle: GrowableStoreHandle, private readonly registry: BufferRegistry = new BufferRegistry()) {
    const { control, arena } = handle;
    if (!(control instanceof SharedArrayBuffer) || control.byteLength !== CONTROL_BYTES ||
        !(arena instanceof SharedArrayBuffer) || !arena.growable) {
      throw new StoreError('CORRUPTED', 'not a growable store: wrong buffers');
    }
    this.control = new Int32Array(control);
    if (this.control[C_MAGIC] !== MAGIC) throw new StoreError('CORRUPTED', 'not a growable store: bad magic number');
    this.handle = { control, arena };
    this.figures = new Float64Array(control);
    this.lockWords = new Int32Array(control, 4 * LOCK_WORDS_AT, LOCK_WORDS);
    this.arena = arena;
    this.remakeViews();
  }

  // ---------------------------------------------------------------- Store

  get(key: Buffer): Buffer | undefined {
    this.sync();
    const slot = this.find(key, fnv1a(key));
    if (slot < 0) return undefined;
    return this.valueOf(this.foundAt);
  }

  /**
   * Creates or replaces `key`. Throws StoreError TOO_LARGE past 512 MB, OOM
   * over maxMemory. A key or value over 64 KB that fills a whole
   * SharedArrayBuffer is kept without a copy: do not change it afterwards.
   */
  set(key: Buffer, value: Buffer): void {
    if (key.length > MAX_ITEM_BYTES || value.length > MAX_ITEM_BYTES) {
      const what = key.length > MAX_ITEM_BYTES ? 'key' : 'value';
      throw new StoreError('TOO_LARGE', `${what} is ${Math.max(key.length, value.length)} bytes, the limit is ${MAX_ITEM_BYTES}`);
    }
    this.sync();
    const max = this.figures[F_MAX_MEMORY]!;
    if (max > 0 && this.usedMemory() > max) {
      throw new StoreError('OOM', "command not allowed when used memory > 'maxmemory'.");
    }
    const hash = fnv1a(key);
    let slot = this.find(key, hash);
    if (slot === NO_SLOT) throw corrupted('an index with no empty slot');
    const bytes = recordBytes(key.length, value.length);
    if (slot >= 0) {
      // The key exists. Same class: overwrite the value in place.
      const at = this.foundAt;
      const cls = this.mem[at + 18]!;
      if (CLASS_OF[(bytes + 7) >>> 3] === cls) {
        this.freeOutOfLine(at, FLAG_VALUE_OUT);
        this.writeValue(at, key.length, value);
        this.mem[at + 16] = TYPE_STRING;
        return;
      }
      // Another class: a new record (keeping the expiry time), then the old one freed.
      const fresh = this.newRecord(key, value, bytes);
      this.f64[(fresh + 8) >>> 3] = this.f64[(at + 8) >>> 3]!;
      this.index[2 * slot + 1] = (fresh >>> 3) + 1;
      this.freeRecord(at);
      return;
    }
    if (2 * (this.size() + 1) > this.slots) {
      this.replaceIndex(this.slots * 2);
      slot = this.find(key, hash);
      if (slot >= 0 || slot === NO_SLOT) throw corrupted('a key that appeared while the index grew');
    }
    const at = this.newRecord(key, value, bytes);
    const w = 2 * ~slot;
    this.index[w] = hash;
    this.index[w + 1] = (at >>> 3) + 1;
    this.control[C_SIZE] = this.control[C_SIZE]! + 1; // read, add, write: not atomic, as in SharedStore
  }

  delete(key: Buffer): boolean {
    this.sync();
    const slot = this.find(key, fnv1a(key));
    if (slot < 0) return false;
    const at = this.foundAt;
    this.removeSlot(slot);
    this.control[C_SIZE] = this.control[C_SIZE]! - 1;
    if (this.f64[(at + 8) >>> 3] !== 0) this.control[C_EXPIRES] = Math.max(0, this.control[C_EXPIRES]! - 1);
    this.freeRecord(at);
    const size = this.size();
    if (8 * size < this.slots && this.slots > MIN_SLOTS) this.replaceIndex(this.slots / 2);
    return true;
  }

  /** O(1): the counter in the control block. */
  size(): number {
    const n = this.control[C_SIZE]!;
    if (n < 0 || (this.slots > 0 && n > this.slots)) throw corrupted(`an entry count of ${n}`);
    return n;
  }

  /** Every readable entry (values copied). A corrupted record is skipped (see check()). */
  entries(): Array<[Buffer, Buffer]> {
    const out: Array<[Buffer, Buffer]> = [];
    this.forEachEntry((key, value) => out.push([Buffer.from(key), Buffer.from(value)]));
    return out;
  }

  /**
   * Calls `visit` with every readable entry, in index order. The Buffers are
   * views into shared memory, valid until the next write: copy what you keep.
   * For a snapshot (log rewrite, replication's RDB) without building one big
   * array. `expiresAt` is 0 for never; `type` is the record's type tag.
   */
  forEachEntry(visit: (key: Buffer, value: Buffer, expiresAt: number, type: number) => void): void {
    this.sync();
    const index = this.index;
    for (let s = 0; s < this.slots; s++) {
      const ref = index[2 * s + 1]!;
      if (ref === 0) continue;
      let at: number;
      let key: Buffer;
      let value: Buffer;
      try {
        at = this.recordAt(ref);
        key = this.keyOf(at);
        value = this.valueView(at);
      } catch (caught) {
        if (caught instanceof StoreError) continue;
        throw caught;
      }
      visit(key, value, this.f64[(at + 8) >>> 3]!, this.mem[at + 16]!);
    }
  }

  // ------------------------------------------------- expiry and types (issue 13)

  expiresAt(key: Buffer): number | undefined {
    this.sync();
    if (this.find(key, fnv1a(key)) < 0) return undefined;
    return this.f64[(this.foundAt + 8) >>> 3]!;
  }

  setExpiresAt(key: Buffer, at: number): boolean {
    this.sync();
    if (this.find(key, fnv1a(key)) < 0) return false;
    const word = (this.foundAt + 8) >>> 3;
    const had = this.f64[word] !== 0;
    if (had !== (at !== 0)) this.control[C_EXPIRES] = Math.max(0, this.control[C_EXPIRES]! + (had ? -1 : 1));
    this.f64[word] = at;
    return true;
  }

  /** O(1): the counter in the control block. */
  expiringKeys(): number {
    return this.control[C_EXPIRES]!;
  }

  /**
   * Up to `limit` keys with an expiry time, walking the index from where the
   * last call stopped (this thread's cursor). Bounded: at most 20 slots per
   * key asked for, so a table of mostly persistent keys costs little per call.
   */
  sampleExpiring(limit: number): Array<[Buffer, number]> {
    this.sync();
    const out: Array<[Buffer, number]> = [];
    if (this.control[C_EXPIRES] === 0) return out;
    const index = this.index;
    for (let visited = 0; visited < 20 * limit && visited < this.slots && out.length < limit; visited++) {
      this.sampleCursor = (this.sampleCursor + 1) & this.mask;
      const ref = index[2 * this.sampleCursor + 1]!;
      if (ref === 0) continue;
      const at = this.recordAt(ref);
      const expiresAt = this.f64[(at + 8) >>> 3]!;
      if (expiresAt !== 0) out.push([Buffer.from(this.keyOf(at)), expiresAt]);
    }
    return out;
  }

  typeOf(key: Buffer): number {
    this.sync();
    return this.find(key, fnv1a(key)) < 0 ? 0 : this.mem[this.foundAt + 16]!;
  }

  setType(key: Buffer, type: number): boolean {
    this.sync();
    if (this.find(key, fnv1a(key)) < 0) return false;
    this.mem[this.foundAt + 16] = type;
    return true;
  }

  // --------------------------------------------------------------- memory

  /**
   * Bytes the data takes (INFO's used_memory): live chunks, out-of-line
   * buffers, index, control block, and what is held beside the store
   * (countBeside()).
   */
  usedMemory(): number {
    return this.figures[F_CHUNK_BYTES]! + this.figures[F_OUT_OF_LINE_BYTES]! + 8 * this.slots + CONTROL_BYTES +
      this.figures[F_BESIDE_BYTES]!;
  }

  /**
   * Counts `deltaBytes` more (or fewer) of data its keys hold outside the
   * store: a list's elements live on the event loop (lists.ts), its record
   * here. Counted in usedMemory(), so INFO and --max-memory see them. One
   * thread calls it (the one that owns the lists), under the write lock.
   */
  countBeside(deltaBytes: number): void {
    this.figures[F_BESIDE_BYTES]! += deltaBytes;
    this.notePeak();
  }

  /** The largest usedMemory() seen (INFO's used_memory_peak). */
  peakMemory(): number {
    return Math.max(this.figures[F_PEAK]!, this.usedMemory());
  }

  /** Bytes set aside: every carved page, out-of-line buffers, index, control block. */
  reservedMemory(): number {
    return this.pages() * PAGE_BYTES + this.figures[F_OUT_OF_LINE_BYTES]! + 8 * this.slots + CONTROL_BYTES +
      this.figures[F_BESIDE_BYTES]!;
  }

  /** The limit on usedMemory() for writes; 0 = none. Shared by every thread. */
  get maxMemory(): number {
    return this.figures[F_MAX_MEMORY]!;
  }

  set maxMemory(bytes: number) {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new RangeError(`maxMemory must be >= 0, got ${bytes}`);
    this.figures[F_MAX_MEMORY] = bytes;
  }

  /** Index slots (for tests: it grows and shrinks). */
  get indexSlots(): number {
    this.sync();
    return this.slots;
  }

  /**
   * A full consistency check, in plain words; [] when the store is sound.
   * O(slots + free chunks), for tests and for showing what a race did.
   */
  check(): string[] {
    this.sync();
    const problems: string[] = [];
    const seen = new Set<string>();
    const inUse = new Set<number>();
    let used = 0;
    let chunkBytes = 0;
    let outOfLine = 0;
    for (let s = 0; s < this.slots; s++) {
      const ref = this.index[2 * s + 1]!;
      if (ref === 0) continue;
      used++;
      try {
        const at = this.recordAt(ref);
        if (inUse.has(at)) problems.push(`two slots point to the record at ${at}`);
        inUse.add(at);
        const key = this.keyOf(at);
        this.valueView(at);
        const name = key.toString('latin1');
        if (seen.has(name)) problems.push(`key ${JSON.stringify(name)} is stored twice`);
        seen.add(name);
        if (fnv1a(key) !== this.index[2 * s]) problems.push(`slot ${s} holds a key under another key's hash`);
        else if (this.find(Buffer.from(key), fnv1a(key)) !== s) problems.push(`the key in slot ${s} cannot be found by a lookup`);
        chunkBytes += CLASS_BYTES[this.mem[at + 18]!]!;
        const flags = this.mem[at + 17]!;
        if (flags & FLAG_KEY_OUT) outOfLine += this.words[at >>> 2]!;
        if (flags & FLAG_VALUE_OUT) outOfLine += this.words[(at >>> 2) + 1]!;
      } catch (caught) {
        if (!(caught instanceof StoreError)) throw caught;
        problems.push(`slot ${s}: ${caught.message}`);
      }
    }
    if (this.control[C_SIZE] !== used) problems.push(`the entry counter says ${this.control[C_SIZE]}, the index holds ${used}`);
    if (this.figures[F_CHUNK_BYTES] !== chunkBytes) problems.push(`chunk bytes counted ${this.figures[F_CHUNK_BYTES]}, in use ${chunkBytes}`);
    if (this.figures[F_OUT_OF_LINE_BYTES] !== outOfLine) problems.push(`out-of-line bytes counted ${this.figures[F_OUT_OF_LINE_BYTES]}, in use ${outOfLine}`);
    for (let cls = 0; cls < CLASSES; cls++) {
      const w = C_CLASSES_AT + CLASS_WORDS * cls;
      const count = this.control[w + 1]!;
      let ref = this.control[w]!;
      let n = 0;
      for (; ref !== 0 && n <= count; n++) {
        const at = (ref - 1) * 8;
        if (ref < 0 || at + CLASS_BYTES[cls]! > this.arena.byteLength) {
          problems.push(`class ${cls}'s free list points outside the arena`);
          break;
        }
        if (this.words[at >>> 2] !== FREE || this.mem[at + 18] !== cls) problems.push(`class ${cls}'s free list holds a chunk in use`);
        if (inUse.has(at)) problems.push(`the chunk at ${at} is both free and in use`);
        ref = this.words[(at >>> 2) + 1]!;
      }
      if (n !== count) problems.push(`class ${cls}'s free list holds ${n} chunks, its count says ${count}`);
    }
    return problems;
  }

  // ------------------------------------------------------------- internals

  // Picks up what another thread changed: a new index, a longer arena.
  private sync(): void {
    const id = this.control[C_INDEX_ID]!;
    if (id !== this.indexId) {
      const buffer = this.registry.get(id);
      if (buffer === undefined || buffer.byteLength < 8 * MIN_SLOTS || !isPowerOfTwo(buffer.byteLength)) {
        throw corrupted(`an index numbered ${id} that no thread made`);
      }
      this.index = new Int32Array(buffer);
      this.slots = buffer.byteLength / 8; // from the buffer itself, which no race can change
      this.mask = this.slots - 1;
      this.indexId = id;
    }
    // The pages word, not arena.byteLength (about 20 ns a call), says whether the arena grew.
    if (this.control[C_PAGES]! * PAGE_BYTES > this.mem.length) this.remakeViews();
  }

  private remakeViews(): void {
    const length = this.arena.byteLength;
    this.mem = Buffer.from(this.arena, 0, length);
    this.words = new Int32Array(this.arena, 0, length / 4);
    this.f64 = new Float64Array(this.arena, 0, length / 8);
  }

  // The slot holding `key`; or, when absent, ~slot (< 0) of the empty slot
  // where it would go; or NO_SLOT when every slot was probed (corruption).
  private find(key: Buffer, hash: number): number {
    const index = this.index;
    let s = hash & this.mask;
    for (let n = 0; n < this.slots; n++) {
      const ref = index[2 * s + 1]!;
      if (ref === 0) return ~s;
      if (index[2 * s] === hash && this.keyEquals(ref, key)) return s;
      s = (s + 1) & this.mask;
    }
    return NO_SLOT;
  }

  // Also leaves the record's offset in foundAt, for the caller of find().
  private keyEquals(ref: number, key: Buffer): boolean {
    const at = this.recordAt(ref);
    this.foundAt = at;
    const keyLength = this.words[at >>> 2]!;
    if (keyLength !== key.length) return false;
    if (this.mem[at + 17]! & FLAG_KEY_OUT) return key.equals(this.keyOf(at));
    return sameKeyBytes(this.mem, at + RECORD_HEADER_BYTES, key);
  }

  // The byte offset of the record `ref` points to, after checking that its
  // header and the key and value bytes it holds in line lie inside the arena
  // (whatever a race wrote there, no read or copy can then go out of it).
  // The size class is checked where it is used (freeRecord).
  private recordAt(ref: number): number {
    const at = (ref - 1) * 8;
    const mem = this.mem;
    if (ref < 1 || at + RECORD_HEADER_BYTES > mem.length) throw corrupted(`a ref ${ref} outside the arena`);
    const keyLength = this.words[at >>> 2]!;
    const valueLength = this.words[(at >>> 2) + 1]!;
    const flags = mem[at + 17]!;
    const end = at + RECORD_HEADER_BYTES + (flags & FLAG_KEY_OUT ? 4 : keyLength) + (flags & FLAG_VALUE_OUT ? 4 : valueLength);
    if (keyLength < 0 || valueLength < 0 || end > mem.length) throw corrupted(`a bad record at ${at}`);
    return at;
  }

  // Offset of the value area of the record at `at` (its key area comes first).
  private valueAreaAt(at: number): number {
    return at + RECORD_HEADER_BYTES + (this.mem[at + 17]! & FLAG_KEY_OUT ? 4 : this.words[at >>> 2]!);
  }

  private keyOf(at: number): Buffer {
    const length = this.words[at >>> 2]!;
    if (this.mem[at + 17]! & FLAG_KEY_OUT) return this.outOfLine(this.words[(at + RECORD_HEADER_BYTES) >>> 2]!, length);
    return this.mem.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length);
  }

  // A view of the value (no copy): valid until the next write.
  private valueView(at: number): Buffer {
    const length = this.words[(at >>> 2) + 1]!;
    const from = this.valueAreaAt(at);
    if (this.mem[at + 17]! & FLAG_VALUE_OUT) return this.outOfLine(this.wordAt(from), length);
    return this.mem.subarray(from, from + length);
  }

  // The value, for a caller that keeps it after the lock is released. An
  // out-of-line buffer is never written after it is made (a new value gets a
  // new buffer), so a view of it stays right: no copy of a 100 MB value.
  private valueOf(at: number): Buffer {
    const length = this.words[(at >>> 2) + 1]!;
    const from = this.valueAreaAt(at);
    if (this.mem[at + 17]! & FLAG_VALUE_OUT) return this.outOfLine(this.wordAt(from), length);
    const out = Buffer.allocUnsafe(length);
    if (length <= 64) for (let k = 0; k < length; k++) out[k] = this.mem[from + k]!;
    else this.mem.copy(out, 0, from, from + length);
    return out;
  }

  // An int32 at a byte offset that may not be 4-aligned (it follows a key).
  private wordAt(at: number): number {
    return this.mem.readInt32LE(at);
  }

  private outOfLine(id: number, length: number): Buffer {
    const buffer = this.registry.get(id);
    if (buffer === undefined || buffer.byteLength !== length) throw corrupted(`an out-of-line buffer ${id} missing or of the wrong length`);
    return Buffer.from(buffer);
  }

  // Makes a buffer of its own holding `bytes`; returns its number. Bytes that
  // fill a whole (fixed-length) SharedArrayBuffer are kept as they are: the
  // request parser hands big arguments over that way, and copying 100 MB
  // under the write lock would stall every client for tens of milliseconds.
  // The caller must not change them afterwards (the parser never does).
  private newOutOfLine(bytes: Buffer): number {
    const id = this.nextBufferId();
    const whole = bytes.buffer instanceof SharedArrayBuffer && !bytes.buffer.growable &&
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const buffer = whole ? (bytes.buffer as SharedArrayBuffer) : new SharedArrayBuffer(bytes.length);
    if (!whole) bytes.copy(Buffer.from(buffer));
    this.registry.add(id, buffer);
    this.figures[F_OUT_OF_LINE_BYTES] = this.figures[F_OUT_OF_LINE_BYTES]! + bytes.length;
    this.notePeak();
    return id;
  }

  // Frees the out-of-line key or value (`which`) of the record at `at`, if it has one.
  private freeOutOfLine(at: number, which: number): void {
    const flags = this.mem[at + 17]!;
    if (!(flags & which)) return;
    const id = which === FLAG_KEY_OUT ? this.words[(at + RECORD_HEADER_BYTES) >>> 2]! : this.wordAt(this.valueAreaAt(at));
    const length = this.words[(at >>> 2) + (which === FLAG_KEY_OUT ? 0 : 1)]!;
    this.registry.drop(id);
    this.figures[F_OUT_OF_LINE_BYTES] = Math.max(0, this.figures[F_OUT_OF_LINE_BYTES]! - length);
    this.mem[at + 17] = flags & ~which;
  }

  // Allocates a chunk and writes a whole record into it; returns its offset.
  private newRecord(key: Buffer, value: Buffer, bytes: number): number {
    const cls = CLASS_OF[(bytes + 7) >>> 3]!;
    const at = this.allocate(cls);
    this.words[at >>> 2] = key.length;
    this.f64[(at + 8) >>> 3] = 0;
    this.mem[at + 16] = TYPE_STRING;
    this.mem[at + 17] = 0;
    this.mem[at + 18] = cls;
    this.mem[at + 19] = 0;
    this.words[(at >>> 2) + 5] = 0;
    if (key.length > OUT_OF_LINE_BYTES) {
      this.words[(at + RECORD_HEADER_BYTES) >>> 2] = this.newOutOfLine(key);
      this.mem[at + 17] = FLAG_KEY_OUT;
    } else {
      copyInto(this.mem, at + RECORD_HEADER_BYTES, key);
    }
    this.writeValue(at, key.length, value);
    return at;
  }

  // Writes the value (and its length) of the record at `at`, whose key is keyLength bytes.
  private writeValue(at: number, keyLength: number, value: Buffer): void {
    this.words[(at >>> 2) + 1] = value.length;
    const from = at + RECORD_HEADER_BYTES + (this.mem[at + 17]! & FLAG_KEY_OUT ? 4 : keyLength);
    if (value.length > OUT_OF_LINE_BYTES) {
      this.mem.writeInt32LE(this.newOutOfLine(value), from);
      this.mem[at + 17] = this.mem[at + 17]! | FLAG_VALUE_OUT;
    } else {
      copyInto(this.mem, from, value);
    }
  }

  private freeRecord(at: number): void {
    const cls = this.mem[at + 18]!;
    if (cls >= CLASSES || at + CLASS_BYTES[cls]! > this.mem.length) throw corrupted(`a record at ${at} of class ${cls}`);
    // The value first: where its area starts depends on the key's flag.
    this.freeOutOfLine(at, FLAG_VALUE_OUT);
    this.freeOutOfLine(at, FLAG_KEY_OUT);
    const w = C_CLASSES_AT + CLASS_WORDS * cls;
    this.words[at >>> 2] = FREE;
    this.words[(at >>> 2) + 1] = this.control[w]!;
    this.control[w] = (at >>> 3) + 1;
    this.control[w + 1] = this.control[w + 1]! + 1;
    this.figures[F_CHUNK_BYTES] = Math.max(0, this.figures[F_CHUNK_BYTES]! - CLASS_BYTES[cls]!);
  }

  // A chunk of class `cls`: from its free list, else from its page, else
  // from a new page (the arena grows). Throws OOM when the arena is full.
  private allocate(cls: number): number {
    const w = C_CLASSES_AT + CLASS_WORDS * cls;
    const chunk = CLASS_BYTES[cls]!;
    let at: number;
    const head = this.control[w]!;
    if (head !== 0) {
      at = (head - 1) * 8;
      if (head < 0 || at + chunk > this.mem.length || this.words[at >>> 2] !== FREE || this.mem[at + 18] !== cls) {
        // A broken list: forget it (its chunks leak) rather than follow it.
        this.control[w] = 0;
        this.control[w + 1] = 0;
        throw corrupted(`class ${cls}'s free list`);
      }
      this.control[w] = this.words[(at >>> 2) + 1]!;
      this.control[w + 1] = this.control[w + 1]! - 1;
    } else {
      let cursor = (this.control[w + 2]! - 1) * 8;
      const end = (this.control[w + 3]! - 1) * 8;
      if (cursor < 0 || end > this.mem.length || end - cursor > PAGE_BYTES || cursor + chunk > end) {
        cursor = this.newPage();
        this.control[w + 3] = ((cursor + PAGE_BYTES) >>> 3) + 1;
      }
      at = cursor;
      this.control[w + 2] = ((at + chunk) >>> 3) + 1;
    }
    this.figures[F_CHUNK_BYTES] = this.figures[F_CHUNK_BYTES]! + chunk;
    this.notePeak();
    return at;
  }

  // Carves the next page from the arena (growing it); returns its offset.
  private newPage(): number {
    const pages = this.pages();
    const at = pages * PAGE_BYTES;
    if (at + PAGE_BYTES > this.arena.maxByteLength) {
      throw new StoreError('OOM', `the store's arena is full (${this.arena.maxByteLength} bytes)`);
    }
    if (this.arena.byteLength < at + PAGE_BYTES) {
      // Grow by an eighth at least: fewer grow() calls, and pages never
      // written cost address space, not RAM.
      const target = Math.max(at + PAGE_BYTES, Math.ceil(this.arena.byteLength / 8 / PAGE_BYTES) * PAGE_BYTES + this.arena.byteLength);
      this.arena.grow(Math.min(target, this.arena.maxByteLength));
      this.remakeViews();
    }
    this.control[C_PAGES] = pages + 1;
    return at;
  }

  private nextBufferId(): number {
    let id = this.control[C_NEXT_ID]!;
    if (id < 1 || id >= 0x7fffffff) id = 1; // wrapped around, or scribbled on
    this.control[C_NEXT_ID] = id + 1;
    return id;
  }

  private notePeak(): void {
    const used = this.usedMemory();
    if (used > this.figures[F_PEAK]!) this.figures[F_PEAK] = used;
  }

  private pages(): number {
    const pages = this.control[C_PAGES]!;
    const most = this.arena.byteLength / PAGE_BYTES;
    if (pages < 0 || pages > most) throw corrupted(`a page count of ${pages}`);
    return pages;
  }

  // A new index of `slots` slots holding every entry of the current one, in
  // a buffer of its own; the old buffer is dropped (its memory goes back).
  private replaceIndex(slots: number): void {
    if (slots > MAX_SLOTS) throw new StoreError('OOM', `the index would need more than ${MAX_SLOTS} slots`);
    const buffer = new SharedArrayBuffer(8 * slots);
    const fresh = new Int32Array(buffer);
    const mask = slots - 1;
    const old = this.index;
    let moved = 0;
    for (let s = 0; s < this.slots; s++) {
      const ref = old[2 * s + 1]!;
      if (ref === 0) continue;
      const hash = old[2 * s]!;
      let t = hash & mask;
      let n = 0;
      while (fresh[2 * t + 1] !== 0 && n++ < slots) t = (t + 1) & mask;
      if (n >= slots) throw corrupted('more entries than the new index has slots');
      fresh[2 * t] = hash;
      fresh[2 * t + 1] = ref;
      moved++;
    }
    const id = this.nextBufferId();
    this.registry.add(id, buffer);
    if (this.indexId > 0) this.registry.drop(this.indexId);
    this.control[C_INDEX_ID] = id;
    this.control[C_SIZE] = moved;
    this.indexId = id;
    this.index = fresh;
    this.slots = slots;
    this.mask = mask;
    this.notePeak();
  }

  // Backward shift, no tombstones, as in SharedStore.
  private removeSlot(hole: number): void {
    removeIndexSlot(this.index, 0, this.slots, hole);
  }
}

/** Bytes of the record for a key and a value of these lengths (before rounding to a class). */
export function recordBytes(keyLength: number, valueLength: number): number {
  return RECORD_HEADER_BYTES + (keyLength > OUT_OF_LINE_BYTES ? 4 : keyLength) + (valueLength > OUT_OF_LINE_BYTES ? 4 : valueLength);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function corrupted(what: string): StoreError {
  return new StoreError('CORRUPTED', `the shared store is corrupted (${what}); a race without a lock?`);
}
