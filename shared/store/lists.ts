import { array, bulk, type Reply } from '../protocol/reply.ts';
import { TYPE_LIST, type Store } from './store.ts';

// Lists (issue 13): a queue a consumer can block on.
//
// WHERE THE ELEMENTS LIVE. The key itself is a record of the store, with the
// type tag TYPE_LIST and an empty value: so TYPE, EXISTS, DEL, KEYS, SCAN,
// DBSIZE, EXPIRE, TTL and WRONGTYPE work on it like on any key, in any
// thread. The elements live here, beside the store, in the memory of the
// thread that runs the list commands: the event loop (steps 01 and 06; step
// 06 never sends a list command to its pool). Each list is a Deque: a ring of
// slots that doubles when full, so LPUSH, RPUSH, LPOP and RPOP are O(1) and
// LRANGE is O(range), as Redis's quicklist.
//   Why not the elements in the shared store? A list stored as one value
// must be rewritten whole on each push: O(n) per push, and past 64 KB a
// fresh SharedArrayBuffer each time: redis-benchmark's 100,000 LPUSHes to one
// list would copy about 35 GB (the measured rates: steps/06-worker-pool/README.md).
// The price of this design: a pool thread sees that the
// key is a list but cannot read its elements (it never needs to), and a list
// deleted by a pool thread (DEL with --execute pool) leaves its elements
// here until the next list command on that key finds the record gone.
//
// Every change is journaled through the store chain (store.journal): logged
// as `RPUSH <seq> <key> <element>`, `LPOP <seq> <key>`... and replayed by
// applyLogged(); the key's version moves (WATCH).
//
// BLOCKING POPS. BLPOP on empty lists registers a Waiter here and the
// connection waits for its promise: no thread, no loop polling - the
// connection is simply not answered yet. A push serves the waiters of its
// key in arrival order, exactly as many as it has elements for, each with
// its own pop (journaled as LPOP/RPOP, as Redis propagates BLPOP). A waiter
// whose timeout passes gets a null array; one whose client disconnects is
// cancelled and forgotten. It is the condition variable of step 03's lesson,
// on the network: wait releases nothing but a promise, push is the notify.

/**
 * What one element costs beside its bytes: a Buffer object on the JavaScript
 * heap and its slot in the ring. Measured: a million 10-byte elements pushed
 * on one Deque grew the process's RSS by 141 bytes each (Node 20).
 */
export const ELEMENT_OVERHEAD_BYTES = 128;

/** What an element counts for in used_memory (INFO). */
export const elementBytes = (element: Buffer) => element.length + ELEMENT_OVERHEAD_BYTES;

/** A double-ended queue: a power-of-two ring that doubles when full. */
export class Deque {
  private slots: Array<Buffer | undefined> = new Array(8);
  private head = 0;
  length = 0;
  /** What its elements count for in used_memory: elementBytes() of each. */
  bytes = 0;

  push(value: Buffer, left: boolean): void {
    if (this.length === this.slots.length) this.grow();
    this.bytes += elementBytes(value);
    const mask = this.slots.length - 1;
    if (left) {
      this.head = (this.head - 1) & mask;
      this.slots[this.head] = value;
    } else {
      this.slots[(this.head + this.length) & mask] = value;
    }
    this.length++;
  }

  pop(left: boolean): Buffer | undefined {
    if (this.length === 0) return undefined;
    const mask = this.slots.length - 1;
    const at = left ? this.head : (this.head + this.length - 1) & mask;
    const value = this.slots[at];
    this.slots[at] = undefined;
    if (left) this.head = (this.head + 1) & mask;
    this.length--;
    this.bytes -= elementBytes(value!);
    return value;
  }

  /** Elements start..stop (inclusive, already within 0..length-1). */
  range(start: number, stop: number): Buffer[] {
    const out: Buffer[] = [];
    const mask = this.slots.length - 1;
    for (let i = start; i <= stop; i++) out.push(this.slots[(this.head + i) & mask]!);
    return out;
  }

  private grow(): void {
    const bigger: Array<Buffer | undefined> = new Array(this.slots.length * 2);
    for (let i = 0; i < this.length; i++) bigger[i] = this.slots[(this.head + i) & (this.slots.length - 1)];
    this.slots = bigger;
    this.head = 0;
  }
}

/** A client blocked in BLPOP/BRPOP. */
interface Waiter {
  keys: Buffer[];
  left: boolean;
  resolve(reply: Reply): void;
  timer: NodeJS.Timeout | null;
  done: boolean;
}

/** What a blocked connection holds: the reply to come, and how to give up. */
export interface BlockedPop {
  reply: Promise<Reply>;
  /** The client disconnected (or the server stops): forget the waiter; `reply` resolves as a timeout. */
  cancel(): void;
}

const EMPTY = Buffer.alloc(0);
const NULL_ARRAY = array(null);

export class Lists {
  private readonly lists = new Map<string, Deque>();
  private readonly waiters = new Map<string, Waiter[]>();
  private blocked: BlockedPop | null = null;

  /**
   * `onMemory(delta)` hears each change of what the elements take (bytes,
   * elementBytes() each): step 06 adds it to the store's used_memory, so
   * that INFO and --max-memory count lists too.
   */
  constructor(private readonly onMemory: (deltaBytes: number) => void = () => {}) {}

  /** Bytes the elements take (elementBytes() of each), as reported to onMemory. */
  memoryBytes = 0;

  /** Runs `change` on `list` and reports what it did to the elements' bytes. */
  private changing<T>(list: Deque, change: () => T): T {
    const before = list.bytes;
    const result = change();
    this.account(list.bytes - before);
    return result;
  }

  private account(delta: number): void {
    if (delta === 0) return;
    this.memoryBytes += delta;
    this.onMemory(delta);
  }

  /** Forgets the list under `id`, and what its elements took. */
  private drop(id: string): void {
    const list = this.lists.get(id);
    if (list === undefined) return;
    this.lists.delete(id);
    this.account(-list.bytes);
  }

  /** The list under `key`, or undefined when the key is not a list (absent, expired, deleted elsewhere). */
  get(store: Store, key: Buffer): Deque | undefined {
    const id = key.toString('latin1');
    const list = this.lists.get(id);
    if (list === undefined) return undefined;
    if (store.typeOf!(key) === TYPE_LIST) return list;
    this.drop(id); // the record went away (expired, DEL on another thread): so do the elements
    return undefined;
  }

  /**
   * LPUSH/RPUSH: the caller has checked the key is absent or a list. Creates
   * it when absent; returns the length after the push, then serves waiters.
   */
  push(store: Store, key: Buffer, elements: Buffer[], left: boolean): number {
    let list = this.get(store, key);
    if (list === undefined) {
      store.set(key, EMPTY);
      store.setType!(key, TYPE_LIST);
      list = new Deque();
      this.lists.set(key.toString('latin1'), list);
    }
    const op = left ? 'LPUSH' : 'RPUSH';
    for (const element of elements) {
      const copy = Buffer.from(element); // the request's bytes may be a view of a reused buffer
      this.changing(list, () => list.push(copy, left));
      store.journal!(op, key, copy);
    }
    const length = list.length;
    this.serveWaiters(store, key);
    return length;
  }

  /** LPOP/RPOP: up to `count` elements; an emptied list is deleted, as in Redis. */
  pop(store: Store, key: Buffer, left: boolean, count: number): Buffer[] {
    const list = this.get(store, key);
    if (list === undefined) return [];
    const out: Buffer[] = [];
    const op = left ? 'LPOP' : 'RPOP';
    while (out.length < count && list.length > 0) {
      out.push(this.changing(list, () => list.pop(left))!);
      store.journal!(op, key);
    }
    if (list.length === 0) {
      this.drop(key.toString('latin1'));
      store.delete(key);
    }
    return out;
  }

  /** The elements of the list under `key`, head first (not copied), or undefined: for a snapshot (replication's RDB). */
  elements(key: Buffer): Buffer[] | undefined {
    const list = this.lists.get(key.toString('latin1'));
    return list === undefined ? undefined : list.range(0, list.length - 1);
  }

  /** The key is gone from the store (DEL, FLUSHDB, expiry): drop its elements. */
  forget(key: Buffer): void {
    if (this.lists.size === 0) return; // replay calls it for every SET: no key string made when there are no lists
    this.drop(key.toString('latin1'));
  }

  /** Replay: a journaled change, applied to the elements only (the store's records restore the key). */
  applyLogged(op: string, key: Buffer, arg: Buffer | undefined): void {
    const id = key.toString('latin1');
    let list = this.lists.get(id);
    if (op === 'LPUSH' || op === 'RPUSH') {
      if (list === undefined) this.lists.set(id, (list = new Deque()));
      const target = list;
      const element = Buffer.from(arg!);
      this.changing(target, () => target.push(element, op === 'LPUSH'));
    } else if (list !== undefined) {
      const target = list;
      this.changing(target, () => target.pop(op === 'LPOP'));
      if (target.length === 0) this.drop(id);
    }
  }

  /** Elements held beside the store, for INFO. */
  elementCount(): number {
    let n = 0;
    for (const list of this.lists.values()) n += list.length;
    return n;
  }

  // ------------------------------------------------------------ blocking

  /**
   * BLPOP/BRPOP found every key empty: register a waiter (served in arrival
   * order) that times out after `timeoutMs` (0 = never). The connection
   * takes it with takeBlocked() right after the command.
   */
  block(keys: Buffer[], left: boolean, timeoutMs: number): void {
    let resolve!: (reply: Reply) => void;
    const reply = new Promise<Reply>((r) => (resolve = r));
    const waiter: Waiter = { keys: keys.map((key) => Buffer.from(key)), left, resolve, timer: null, done: false };
    for (const key of waiter.keys) {
      const id = key.toString('latin1');
      const queue = this.waiters.get(id);
      if (queue === undefined) this.waiters.set(id, [waiter]);
      else queue.push(waiter);
    }
    if (timeoutMs > 0) waiter.timer = setTimeout(() => this.finish(waiter, NULL_ARRAY), timeoutMs);
    this.blocked = { reply, cancel: () => this.finish(waiter, NULL_ARRAY) };
  }

  /** The waiter the last command registered (null when it did not block). */
  takeBlocked(): BlockedPop | null {
    const blocked = this.blocked;
    this.blocked = null;
    return blocked;
  }

  /** Clients blocked right now (INFO's blocked_clients). */
  blockedClients(): number {
    const all = new Set<Waiter>();
    for (const queue of this.waiters.values()) for (const waiter of queue) all.add(waiter);
    return all.size;
  }

  // A push to `key`: its oldest waiters get an element each, while it lasts.
  private serveWaiters(store: Store, key: Buffer): void {
    const id = key.toString('latin1');
    for (;;) {
      const waiter = this.waiters.get(id)?.[0]; // finish() replaces the queue: read it again
      if (waiter === undefined) return;
      const list = this.get(store, key);
      if (list === undefined || list.length === 0) return;
      const [element] = this.pop(store, key, waiter.left, 1);
      this.finish(waiter, array([bulk(key), bulk(element!)]));
    }
  }

  // A waiter is done (served, timed out, or cancelled): it leaves every queue.
  private finish(waiter: Waiter, reply: Reply): void {
    if (waiter.done) return;
    waiter.done = true;
    if (waiter.timer !== null) clearTimeout(waiter.timer);
    for (const key of waiter.keys) {
      const id = key.toString('latin1');
      const queue = this.waiters.get(id);
      if (queue === undefined) continue;
      const rest = queue.filter((other) => other !== waiter);
      if (rest.length === 0) this.waiters.delete(id);
      else this.waiters.set(id, rest);
    }
    waiter.resolve(reply);
  }
}

