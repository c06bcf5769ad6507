import { describeOperation, describeOutcome, type Operation, type TimedOperation } from '../operations.ts';
import { step, type KeyState } from './kv-model.ts';
import type { Violation } from './linearizability.ts';
import { drawTimeline, operationRow } from '../text-timeline.ts';
import { SAMPLE_COLUMNS } from '../report.ts';

// Turns a violation found by the checker into words and a small timeline a
// student can read: which operation could not be explained, what the key held
// at that point in the longest consistent order, and the operations around it.
// Operations are named by `describe`: a dialect's, so that a run in the redis
// dialect names the commands it sent (`SET k "v" NX`); by default our own
// names (`POST k "v"`).

/** Names an operation for people: a dialect's describe. */
export type Describe = (op: Operation) => string;

export interface Explanation {
  /** A short name for the kind of anomaly: 'stale read', 'double create'... */
  kind: string;
  /** Plain words: what was seen and why no correct server could answer that. */
  text: string;
  timeline: string;
}

export function explainViolation(key: string, violation: Violation, origin: number,
  describe: Describe = describeOperation): Explanation {
  const { stuck, stateAfterExplained: state } = violation;
  const who = `client ${stuck.client}'s ${describe(stuck.op)} -> ${describeOutcome(stuck.outcome)}`;
  const [kind, why] = reason(violation, state, describe);
  const text =
    `No order of the ${violation.history.length} operations on key ${key} agrees with every reply. ` +
    `The longest order that does explains ${violation.explained.length} of them; after it the key ` +
    `${state === null ? 'is absent' : `holds ${JSON.stringify(state)}`}. Then ${who} ` +
    `(sent at ${ms(stuck.invokedAt - origin)}, answered at ${ms(stuck.returnedAt - origin)}) cannot be placed: ${why}`;
  return { kind, text, timeline: timeline(violation, origin, describe) };
}

function reason(violation: Violation, state: KeyState, describe: Describe): [string, string] {
  const { stuck, history } = violation;
  const { op, outcome } = stuck;
  const shown = state === null ? 'absent' : JSON.stringify(state);
  if (op.kind === 'read' && outcome.kind === 'value') {
    // The most recent write of the value read (or the start, for an absent
    // key), among those sent before the read was answered.
    const writers = history.filter((h) => h !== stuck && writes(h) === outcome.value && h.invokedAt < stuck.returnedAt);
    if (outcome.value !== null && writers.length === 0) {
      return ['impossible read', `it read ${JSON.stringify(outcome.value)}, a value no operation wrote.`];
    }
    const writer = writers.sort((a, b) => b.invokedAt - a.invokedAt)[0];
    const writtenBy = writer === undefined ? 'as the key was at the start'
      : `${outcome.value === null ? 'as left by' : 'written by'} client ${writer.client}'s ${describe(writer.op)}`;
    // A write of another value, sent after that one was answered and answered
    // before the read was sent: the value read had certainly been replaced.
    const newer = history.find((h) => writes(h) !== undefined && writes(h) !== outcome.value &&
      h.invokedAt > (writer?.returnedAt ?? -Infinity) && h.returnedAt < stuck.invokedAt);
    if (newer) {
      return ['stale read', `it read ${describeOutcome(outcome)}, ${writtenBy}, but client ${newer.client}'s ` +
        `${describe(newer.op)} -> ${describeOutcome(newer.outcome)} had changed the key before this read ` +
        'was sent (a stale read).'];
    }
    // Otherwise, in the longest consistent order: after the last moment the
    // key held the value read, which operation changed it, and was that one
    // finished before this read was sent?
    const changer = changedAfterLastHeld(violation, outcome.value);
    if (changer && changer.returnedAt < stuck.invokedAt) {
      return ['stale read', `it read ${describeOutcome(outcome)}, but client ${changer.client}'s ` +
        `${describe(changer.op)} -> ${describeOutcome(changer.outcome)} had changed the key before this ` +
        'read was sent, and nothing set it back (a stale read).'];
    }
    return ['wrong read', `it read ${describeOutcome(outcome)} where the key was ${shown}.`];
  }
  if (op.kind === 'create' && outcome.kind === 'ok' && state !== null) {
    return ['double create', `it created the key, but the key already existed (${shown}): another create ` +
      'had already succeeded, so two clients each believe they created it.'];
  }
  if (op.kind === 'incr' && outcome.kind === 'integer') {
    // It returned n, so it read n - 1 (or an absent key, for 1). Name the
    // operation that had left the key as it was instead, as the timeline shows it.
    const seen = outcome.value === 1 ? 'as if the key were absent (or 0)' : `as if the key held "${outcome.value - 1}"`;
    const writer = lastChange(violation);
    if (writer === undefined) {
      return ['lost update', `it returned ${outcome.value}, ${seen}, but the key was ${shown}.`];
    }
    const by = `client ${writer.client}'s ${describe(writer.op)} -> ${describeOutcome(writer.outcome)}`;
    if (writer.op.kind === 'incr' && writer.outcome.kind === 'integer' && writer.outcome.value === outcome.value) {
      return ['lost update', `it returned ${outcome.value}, but ${by} had already returned ${outcome.value}: ` +
        'two increments read the same old value, and one of them was lost.'];
    }
    const when = writer.returnedAt < stuck.invokedAt ? ', answered before this INCR was sent' : '';
    return ['lost update', `it returned ${outcome.value}, ${seen}, but the key ` +
      `${state === null ? 'was absent' : `held ${shown}`}, left by ${by}${when}: the increment worked on an ` +
      'older value, and its result overwrote that write, which was lost.'];
  }
  if (op.kind === 'delete' && outcome.kind === 'ok' && state === null) {
    return ['double delete', 'it deleted the key, but the key was already absent: another delete had ' +
      'already succeeded, so two clients each believe they deleted it.'];
  }
  if (op.kind === 'update' && outcome.kind === 'ok' && state === null) {
    return ['update of an absent key', 'it updated the key, but at that point the key was absent, so a correct ' +
      'server would have answered NOT_FOUND.'];
  }
  return ['impossible reply', `on a key that is ${shown}, a correct server would not answer ${describeOutcome(outcome)}.`];
}

/** In the longest consistent order, the operation that last moved the key away from `value`. */
function changedAfterLastHeld(violation: Violation, value: string | null): TimedOperation | undefined {
  let state: KeyState = null; // every run starts on fresh keys
  let changer: TimedOperation | undefined;
  for (const entry of violation.explained) {
    const after = step(state, entry.op, entry.outcome);
    if (after === undefined) return undefined;
    if (state === value && after !== value) changer = entry;
    if (after === value) changer = undefined;
    state = after;
  }
  return changer;
}

/** In the longest consistent order, the last operation that changed the key (it left the key as it is). */
function lastChange(violation: Violation): TimedOperation | undefined {
  let state: KeyState = null; // every run starts on fresh keys
  let changer: TimedOperation | undefined;
  for (const entry of violation.explained) {
    const after = step(state, entry.op, entry.outcome);
    if (after === undefined) return undefined;
    if (after !== state) changer = entry;
    state = after;
  }
  return changer;
}

/** The value an operation leaves if it writes one (for finding who wrote what). */
function writes(h: TimedOperation): string | null | undefined {
  if ((h.op.kind === 'create' || h.op.kind === 'update') && h.outcome.kind === 'ok') return h.op.value;
  if (h.op.kind === 'incr' && h.outcome.kind === 'integer') return String(h.outcome.value);
  if (h.op.kind === 'delete' && h.outcome.kind === 'ok') return null;
  return undefined;
}

/**
 * The operations around the stuck one, one line each, in the order they were
 * sent, with a bar showing when each was in flight, the stuck one marked
 * under its bar, in at most `columns` (../text-timeline.ts):
 *
 *       12.000 ms  client 2  |=======                         |  INCR k -> 30017
 *       12.301 ms  client 3  |    ==================          |  PUT k "30017" -> OK
 *       13.020 ms  client 1  |              ==================|  GET k -> "30016"
 *                                          ^^^^^^^^^^^^^^^^^^ cannot be placed
 */
export function timeline(violation: Violation, origin: number, describe: Describe = describeOperation,
  columns = SAMPLE_COLUMNS): string {
  const { stuck } = violation;
  const end = Number.isFinite(stuck.returnedAt) ? stuck.returnedAt : stuck.invokedAt;
  // The last few explained operations, and everything in flight while the stuck one was.
  const recent = violation.explained.slice(-6);
  const overlapping = violation.history.filter((h) => h.invokedAt <= end && h.returnedAt >= stuck.invokedAt - 0.001);
  const shown = [...new Set([...recent, ...overlapping])].sort((a, b) => a.invokedAt - b.invokedAt).slice(-12);
  return drawTimeline(shown.map((h) => operationRow(h, origin, describe, h === stuck)), columns);
}

function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(3)} ms` : 'never';
}
