import type { Operation, Outcome } from '../operations.ts';

// The sequential specification of one key: what a correct server, running one
// operation at a time, would answer. The linearizability checker asks it, for
// each candidate order of operations, "can this operation, on this state,
// give this reply, and what is the state after it?".

/** The value of one key; null when the key is absent. */
export type KeyState = string | null;

/** The state after `op` answered `outcome`, or undefined if a correct server could not answer that. */
export function step(state: KeyState, op: Operation, outcome: Outcome): KeyState | undefined {
  // No reply, or an error reply: we cannot tell what happened. Assume the
  // operation took effect as it would on a correct server (Porcupine does the
  // same); one that did nothing can always be placed at the very end.
  if (outcome.kind === 'noreply' || outcome.kind === 'error') return effect(state, op);
  switch (op.kind) {
    case 'create':
      if (state === null) return outcome.kind === 'ok' ? op.value! : undefined;
      return outcome.kind === 'exists' ? state : undefined;
    case 'update':
      if (state !== null) return outcome.kind === 'ok' ? op.value! : undefined;
      return outcome.kind === 'notfound' ? state : undefined;
    case 'delete':
      if (state !== null) return outcome.kind === 'ok' ? null : undefined;
      return outcome.kind === 'notfound' ? state : undefined;
    case 'read':
      return outcome.kind === 'value' && outcome.value === state ? state : undefined;
    case 'incr': {
      const next = increment(state);
      return next !== undefined && outcome.kind === 'integer' && String(outcome.value) === next ? next : undefined;
    }
  }
}

/** What a correct server would do, whatever it answers. */
function effect(state: KeyState, op: Operation): KeyState {
  switch (op.kind) {
    case 'create': return state === null ? op.value! : state;
    case 'update': return state === null ? null : op.value!;
    case 'delete': return null;
    case 'read': return state;
    case 'incr': return increment(state) ?? state;
  }
}

function increment(state: KeyState): string | undefined {
  if (state === null) return '1';
  return /^-?\d{1,15}$/.test(state) ? String(Number(state) + 1) : undefined;
}
