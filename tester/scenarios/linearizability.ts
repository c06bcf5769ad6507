import { performance } from 'node:perf_hooks';
import { closeClients, openClients } from '../client.ts';
import { checkHistory } from '../checker/linearizability.ts';
import { explainViolation } from '../checker/explain.ts';
import { describeOutcome, type OpKind, type Operation, type TimedOperation } from '../operations.ts';
import { AnomalyLog, type ScenarioResult } from '../report.ts';
import { keyTimeline } from '../pictures.ts';
import type { ScenarioContext } from '../options.ts';

// Random operations from several clients on a few keys, each timed from the
// moment it is sent to the moment its reply arrives. Then the question: is
// there one order of all of them, each placed inside its own time span, that a
// correct one-at-a-time server would answer exactly as this one did? (See
// ../checker/linearizability.ts for how that is searched.)
//
// Values written are integers, so INCR always applies; client c's n-th
// operation writes c * 100000 + n, so a value says who wrote it.

const WEIGHTS: Record<OpKind, number> = { read: 35, update: 20, create: 15, incr: 20, delete: 10 };

export async function linearizabilityScenario(context: ScenarioContext): Promise<ScenarioResult> {
  const { options, prefix, random, dialect } = context;
  const keys = Array.from({ length: options.linKeys }, (_, i) => `${prefix}lin:k${i + 1}`);
  const clients = await openClients(options.linClients, context.host, context.port, dialect);
  const origin = performance.now();
  const history: TimedOperation[] = [];
  const total = options.linClients * options.linOps;

  await Promise.all(clients.map(async (client) => {
    for (let n = 1; n <= options.linOps; n++) {
      const kind = random.pick(WEIGHTS);
      const writes = kind === 'create' || kind === 'update';
      const op: Operation = { kind, key: keys[random.int(0, keys.length - 1)]!, ...(writes ? { value: String(client.id * 100000 + n) } : {}) };
      history.push(await client.run(op));
      if (history.length % 100 === 0) context.progress(`linearizability: ${history.length}/${total} operations`);
    }
  }));
  await closeClients(clients);
  context.progress('linearizability: checking the history...');
  const result = checkHistory(history, { timeLimitMs: options.timeLimit * 1000 });
  context.progress('');

  const anomalies = new AnomalyLog();
  for (const entry of history) {
    if (entry.outcome.kind === 'error') {
      anomalies.add('error reply', 'a reply that no correct server gives to this command.',
        `client ${entry.client}: ${describeOutcome(entry.outcome)}`);
    }
  }
  for (const key of result.keys) {
    if (key.verdict !== 'violation') continue;
    const explanation = explainViolation(key.key, key.violation, origin, dialect.describe);
    anomalies.add(explanation.kind, 'the history of a key is not linearizable: no one-at-a-time order of its operations ' +
      'gives the replies that were seen. Timeline (time from the start, bar = in flight):',
    `${explanation.text}\n${explanation.timeline}`, keyTimeline(key.key, key.violation, origin, explanation.text, dialect.describe));
  }
  const unknown = result.keys.filter((k) => k.verdict === 'unknown');
  const list = anomalies.list();
  return {
    name: 'linearizability',
    verdict: list.length > 0 ? 'FAIL' : unknown.length > 0 ? 'UNKNOWN' : 'SUCCESS',
    description: `${options.linClients} clients x ${options.linOps} random operations on ${options.linKeys} key${options.linKeys === 1 ? '' : 's'}, checked per key`,
    figures: {
      operations: history.length,
      'operations without a reply': history.filter((h) => h.outcome.kind === 'noreply').length,
      'keys linearizable': result.keys.filter((k) => k.verdict === 'linearizable').length,
      'keys violating': result.keys.filter((k) => k.verdict === 'violation').length,
      'keys undecided (time limit)': unknown.length,
      'checker ms': Math.round(result.elapsedMs),
    },
    details: unknown.map((k) => `key ${k.key}: UNKNOWN, ${(k as { reason: string }).reason} (raise --time-limit)`),
    anomalies: list,
  };
}
