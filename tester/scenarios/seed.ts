import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { closeClients, openClients } from '../client.ts';
import { step, type KeyState } from '../checker/kv-model.ts';
import { describeOutcome, type OpKind, type Operation } from '../operations.ts';
import { AnomalyLog, type ScenarioResult } from '../report.ts';
import type { ScenarioContext } from '../options.ts';

// The seed's own tester, made to finish: 20 clients x 50 operations chosen at
// random among POST, PUT, GET and DELETE on the client's own keys
// (key_<client>_<i mod 10>), with 10-50 ms of think time between operations.
// Each client knows what its keys must hold, so every reply and the final
// DUMP can be checked. As in the seed, clients never share keys: this
// scenario cannot see a race between clients (contention can).

const KINDS: OpKind[] = ['create', 'update', 'read', 'delete'];

export async function seedScenario(context: ScenarioContext): Promise<ScenarioResult> {
  const { options, random, prefix, dialect } = context;
  const [thinkMin, thinkMax] = parseRange(options.thinkMs);
  const anomalies = new AnomalyLog();
  const expected = new Map<string, KeyState>();
  const keyOf = (client: number, i: number) => `${prefix}seed:key_${client}_${i % 10}`;

  const clients = await openClients(options.seedClients, context.host, context.port, dialect);
  const started = performance.now();
  let done = 0;
  const total = options.seedClients * options.seedOps;
  await Promise.all(clients.map(async (client) => {
    for (let i = 0; i < options.seedOps; i++) {
      const kind = KINDS[random.int(0, 3)]!;
      const writes = kind === 'create' || kind === 'update';
      const op: Operation = { kind, key: keyOf(client.id, i), ...(writes ? { value: `value_${client.id}_${i}` } : {}) };
      const before = expected.get(op.key) ?? null;
      const { outcome } = await client.run(op);
      const after = step(before, op, outcome);
      if (after === undefined || outcome.kind === 'error' || outcome.kind === 'noreply') {
        anomalies.add('wrong reply', 'a reply that a correct server could not give: only this client uses this key, so its ' +
          'earlier operations decide the answer.', `client ${client.id}: ${dialect.describe(op)} -> ` +
          `${describeOutcome(outcome)}, but the key was ${show(before)}`);
      }
      expected.set(op.key, after === undefined ? before : after);
      context.progress(`seed: ${++done}/${total} operations`);
      if (thinkMax > 0) await sleep(random.int(thinkMin, thinkMax));
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  context.progress('');

  const stored = await dialect.dump(clients[0]!.connection, `${prefix}seed:`);
  await closeClients(clients);
  for (const key of new Set([...expected.keys(), ...stored.keys()])) {
    const want = expected.get(key) ?? null;
    const got = stored.get(key) ?? null;
    if (want !== got) {
      anomalies.add('final state differs', 'the DUMP at the end does not hold what the acknowledged operations left.',
        `key ${key}: DUMP shows ${show(got)}, expected ${show(want)}`);
    }
  }
  const list = anomalies.list();
  return {
    name: 'seed',
    verdict: list.length === 0 ? 'SUCCESS' : 'FAIL',
    description: `${options.seedClients} clients x ${options.seedOps} operations on their own keys, think time ${thinkMin}-${thinkMax} ms`,
    figures: {
      operations: total,
      seconds: seconds.toFixed(2),
      'ops/s': Math.round(total / seconds),
      'wrong replies': anomalies.count('wrong reply'),
      'keys checked in DUMP': expected.size,
      'keys whose final state differs': anomalies.count('final state differs'),
    },
    details: [],
    anomalies: list,
  };
}

function show(state: KeyState): string {
  return state === null ? 'absent' : JSON.stringify(state);
}

export function parseRange(text: string): [number, number] {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`--think-ms must be MIN-MAX in ms, like 10-50; got '${text}'`);
  const min = Number(match[1]);
  const max = Number(match[2] ?? match[1]);
  if (max < min) throw new Error(`--think-ms: ${max} is less than ${min}`);
  return [min, max];
}
