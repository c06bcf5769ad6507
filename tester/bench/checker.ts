// `npm run bench:checker`: how long the linearizability checker takes to
// decide histories of 1,000 operations from 10 clients on 5 keys (and larger
// ones), linearizable and not. A measurement, not a test: the numbers are
// printed, nothing is asserted.
//
// The histories are simulated: each client runs operations one after another;
// each operation is in flight for a random time (so up to all 10 overlap) and
// takes effect at a random moment inside it, on a correct one-at-a-time
// store. That gives a linearizable history with plenty of concurrency. A
// broken copy then has one read changed to a value it cannot have seen.

import { performance } from 'node:perf_hooks';
import { checkHistory } from '../checker/linearizability.ts';
import { Random } from '../random.ts';
import type { OpKind, Operation, Outcome, TimedOperation } from '../operations.ts';
import { liveLine } from '../progress.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const WEIGHTS: Record<OpKind, number> = { read: 35, update: 20, create: 15, incr: 20, delete: 10 };

function simulate(clients: number, operations: number, keys: number, random: Random): TimedOperation[] {
  const pending: Array<TimedOperation & { at: number }> = [];
  for (let client = 1; client <= clients; client++) {
    let now = random.next();
    for (let n = 1; n <= operations / clients; n++) {
      const kind = random.pick(WEIGHTS);
      const writes = kind === 'create' || kind === 'update';
      const op: Operation = { kind, key: `k${random.int(1, keys)}`, ...(writes ? { value: String(client * 100000 + n) } : {}) };
      const invokedAt = now;
      const returnedAt = now + 0.1 + random.next() * 3; // long and random: heavy overlap
      pending.push({ client, op, outcome: { kind: 'ok' }, invokedAt, returnedAt, at: invokedAt + random.next() * (returnedAt - invokedAt) });
      now = returnedAt + random.next() * 0.2;
    }
  }
  // Apply each operation at its moment, on a correct store, to learn its reply.
  const store = new Map<string, string>();
  for (const entry of [...pending].sort((a, b) => a.at - b.at)) entry.outcome = apply(store, entry.op);
  return pending.map(({ at: _at, ...entry }) => entry);
}

function apply(store: Map<string, string>, op: Operation): Outcome {
  const current = store.get(op.key);
  switch (op.kind) {
    case 'create':
      if (current !== undefined) return { kind: 'exists' };
      store.set(op.key, op.value!);
      return { kind: 'ok' };
    case 'update':
      if (current === undefined) return { kind: 'notfound' };
      store.set(op.key, op.value!);
      return { kind: 'ok' };
    case 'delete':
      return store.delete(op.key) ? { kind: 'ok' } : { kind: 'notfound' };
    case 'read':
      return { kind: 'value', value: current ?? null };
    case 'incr': {
      const next = (current === undefined ? 0 : Number(current)) + 1;
      store.set(op.key, String(next));
      return { kind: 'integer', value: next };
    }
  }
}

/** The same history with its last read changed to a value nobody wrote. */
function breakOneRead(history: TimedOperation[]): TimedOperation[] {
  const copy = history.map((entry) => ({ ...entry }));
  const reads = copy.filter((entry) => entry.op.kind === 'read');
  reads[Math.floor(reads.length / 2)]!.outcome = { kind: 'value', value: '-1' };
  return copy;
}

const progress = liveLine(process.stderr);
console.log('checker time for simulated histories (10 clients, time limit 60 s per history)\n');
console.log('operations  keys  history          verdict       time ms  (5 seeds: min / median / max)');
for (const [operations, keys] of [[1000, 5], [1000, 1], [10000, 5]] as const) {
  for (const broken of [false, true]) {
    const times: number[] = [];
    const verdicts = new Set<string>();
    for (let seed = 1; seed <= 5; seed++) {
      progress(`bench:checker: ${operations} operations on ${keys} key${keys === 1 ? '' : 's'}, ${broken ? 'one read broken' : 'linearizable'}, seed ${seed}/5`);
      const history = simulate(10, operations, keys, new Random(seed));
      const started = performance.now();
      const result = checkHistory(broken ? breakOneRead(history) : history, { timeLimitMs: 60_000 });
      times.push(performance.now() - started);
      verdicts.add(result.verdict);
    }
    times.sort((a, b) => a - b);
    progress('');
    console.log(`${String(operations).padStart(10)}  ${String(keys).padStart(4)}  ${(broken ? 'one read broken' : 'linearizable').padEnd(15)}  ` +
      `${[...verdicts].join(',').padEnd(12)}  ${times[0]!.toFixed(1)} / ${times[2]!.toFixed(1)} / ${times[4]!.toFixed(1)}`);
  }
}
