// The operations the tester sends, and what came back, in words that do not
// depend on the dialect: `create` is POST in our protocol and SET NX in Redis,
// but either way the answer is "ok" or "exists". Scenarios and the
// linearizability checker reason about these, never about raw replies.

export type OpKind = 'create' | 'update' | 'read' | 'delete' | 'incr';

export interface Operation {
  kind: OpKind;
  key: string;
  /** The value written (create, update). */
  value?: string;
}

export type Outcome =
  | { kind: 'ok' }
  | { kind: 'exists' } // create on a present key
  | { kind: 'notfound' } // update or delete on an absent key
  | { kind: 'value'; value: string | null } // read; null = absent
  | { kind: 'integer'; value: number } // incr
  | { kind: 'error'; text: string } // an error reply the operation should never get
  | { kind: 'noreply'; text: string }; // the connection failed first: the effect is unknown

/** `POST k "v"`, in our own command names (the dialect may send something else). */
export function describeOperation(op: Operation): string {
  const name = { create: 'POST', update: 'PUT', read: 'GET', delete: 'DELETE', incr: 'INCR' }[op.kind];
  return op.value === undefined ? `${name} ${op.key}` : `${name} ${op.key} ${JSON.stringify(op.value)}`;
}

export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'ok':
      return 'OK';
    case 'exists':
      return 'ALREADY_EXISTS';
    case 'notfound':
      return 'NOT_FOUND';
    case 'value':
      return outcome.value === null ? '(nil)' : JSON.stringify(outcome.value);
    case 'integer':
      return String(outcome.value);
    case 'error':
      return `error: ${outcome.text}`;
    case 'noreply':
      return `no reply (${outcome.text})`;
  }
}

/** An operation with its outcome and when it was sent and answered (ms). */
export interface TimedOperation {
  client: number;
  op: Operation;
  outcome: Outcome;
  invokedAt: number;
  /** Infinity when no reply came: it may have taken effect at any later time. */
  returnedAt: number;
}
