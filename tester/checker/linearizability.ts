import { performance } from 'node:perf_hooks';
import type { TimedOperation } from '../operations.ts';
import { step, type KeyState } from './kv-model.ts';

// Is a concurrent history linearizable? That is: is there one order of all the
// operations such that (1) each operation is placed somewhere between the
// moment it was sent and the moment its reply arrived, and (2) replaying them
// in that order on a correct one-at-a-time server gives exactly the replies
// that were seen?
//
// The search is the Wing & Gong algorithm with Lowe's memoization, as in
// Porcupine (github.com/anishathalye/porcupine):
//
// - Put every call and every return on one list, sorted by time.
// - Walk the list. At a call, try to linearize that operation now: if the
//   model accepts its reply, remove its call and return from the list, push
//   it on a stack, and start again from the head. At a return whose operation
//   is not linearized yet, we are stuck: that operation had to take effect
//   before this moment and none of our choices allowed it. Backtrack: pop the
//   last choice and try the next call after it.
// - Memoization: the same set of linearized operations with the same state is
//   the same subproblem, whatever order led there. Remember every (set, state)
//   seen and never explore one twice.
//
// Linearizability is local: a history is linearizable when the history of
// each key is. So each key is checked on its own, which keeps the search small.
//
// The search can take exponential time; it stops at a deadline and then says
// "unknown", never "linearizable".

export type KeyVerdict =
  | { verdict: 'linearizable'; key: string; operations: number }
  | { verdict: 'unknown'; key: string; operations: number; reason: string }
  | { verdict: 'violation'; key: string; operations: number; violation: Violation };

/** Where the search got furthest before it failed. */
export interface Violation {
  /** The longest order found that explains the replies, in order. */
  explained: TimedOperation[];
  /** The key's value after them. */
  stateAfterExplained: KeyState;
  /** The operation that no order could place: its reply contradicts every order tried. */
  stuck: TimedOperation;
  /** Every operation on the key (for the timeline). */
  history: TimedOperation[];
}

export interface HistoryVerdict {
  verdict: 'linearizable' | 'violation' | 'unknown';
  keys: KeyVerdict[];
  elapsedMs: number;
}

export interface CheckOptions {
  /** Give up (verdict unknown) after this long, for the whole history. */
  timeLimitMs: number;
  /** The state of every key before the history; absent by default. */
  initialState?: KeyState;
}

export function checkHistory(history: TimedOperation[], options: CheckOptions): HistoryVerdict {
  const started = performance.now();
  const deadline = started + options.timeLimitMs;
  const byKey = new Map<string, TimedOperation[]>();
  for (const entry of history) {
    const list = byKey.get(entry.op.key) ?? [];
    list.push(entry);
    byKey.set(entry.op.key, list);
  }
  const keys = [...byKey.keys()].sort().map((key) => checkKey(key, byKey.get(key)!, deadline, options.initialState ?? null));
  const verdict = keys.some((k) => k.verdict === 'violation') ? 'violation'
    : keys.some((k) => k.verdict === 'unknown') ? 'unknown' : 'linearizable';
  return { verdict, keys, elapsedMs: performance.now() - started };
}

// One call or return event, in a doubly linked list sorted by time.
interface Entry {
  op: number; // index into the key's operations
  isCall: boolean;
  time: number;
  match: Entry | null; // a call's return
  prev: Entry | null;
  next: Entry | null;
}

export function checkKey(key: string, operations: TimedOperation[], deadline: number, initialState: KeyState): KeyVerdict {
  const count = operations.length;
  const head = buildList(operations);
  const linearized = new Uint32Array(Math.ceil(count / 32));
  const seen = new Set<string>();
  const stack: Array<{ call: Entry; stateBefore: KeyState }> = [];
  let state = initialState;
  let entry = head.next;
  let best: { order: number[]; state: KeyState; stuck: number } = { order: [], state, stuck: -1 };
  let iterations = 0;

  while (head.next !== null) {
    if (++iterations % 4096 === 0 && performance.now() > deadline) {
      return { verdict: 'unknown', key, operations: count, reason: `time limit reached after ${iterations} search steps, with ${count} operations on this key` };
    }
    if (entry!.isCall) {
      const after = step(state, operations[entry!.op]!.op, operations[entry!.op]!.outcome);
      if (after !== undefined) {
        setBit(linearized, entry!.op);
        const memoKey = `${after === null ? '\u0000' : after}|${linearized.join(',')}`;
        if (!seen.has(memoKey)) {
          seen.add(memoKey);
          stack.push({ call: entry!, stateBefore: state });
          state = after;
          lift(entry!);
          entry = head.next;
          continue;
        }
        clearBit(linearized, entry!.op);
      }
      entry = entry!.next;
    } else {
      // A return whose operation is not linearized yet: stuck here.
      if (stack.length >= best.order.length) {
        best = { order: stack.map((s) => s.call.op), state, stuck: entry!.op };
      }
      const last = stack.pop();
      if (last === undefined) {
        return {
          verdict: 'violation', key, operations: count,
          violation: {
            explained: best.order.map((i) => operations[i]!),
            stateAfterExplained: best.state,
            stuck: operations[best.stuck]!,
            history: operations,
          },
        };
      }
      state = last.stateBefore;
      clearBit(linearized, last.call.op);
      unlift(last.call);
      entry = last.call.next;
    }
  }
  return { verdict: 'linearizable', key, operations: count };
}

function buildList(operations: TimedOperation[]): Entry {
  const entries: Entry[] = [];
  operations.forEach((operation, op) => {
    const call: Entry = { op, isCall: true, time: operation.invokedAt, match: null, prev: null, next: null };
    const ret: Entry = { op, isCall: false, time: operation.returnedAt, match: null, prev: null, next: null };
    call.match = ret;
    entries.push(call, ret);
  });
  // At equal times, calls first: the two operations then count as
  // overlapping, which can only make the checker more lenient, never wrong.
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let previous = head;
  for (const entry of entries) {
    previous.next = entry;
    entry.prev = previous;
    previous = entry;
  }
  return head;
}

// Remove a call and its return from the list (the call is before its return,
// so the call always has a next entry).
function lift(call: Entry): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

// Put them back, in the reverse order.
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

function setBit(bits: Uint32Array, index: number): void {
  bits[index >>> 5] |= 1 << (index & 31);
}

function clearBit(bits: Uint32Array, index: number): void {
  bits[index >>> 5] &= ~(1 << (index & 31));
}
