import { performance } from 'node:perf_hooks';
import { closeClients, openClients } from '../client.ts';
import { describeOutcome, type TimedOperation } from '../operations.ts';
import { AnomalyLog, type ScenarioResult } from '../report.ts';
import type { ScenarioContext } from '../options.ts';
import { together } from './together.ts';
import { checkKey } from '../checker/linearizability.ts';
import { explainViolation } from '../checker/explain.ts';
import { keyTimeline, type KeyTimeline } from '../pictures.ts';
import type { Dialect } from '../dialect.ts';

// Many clients, one fresh key, all at once (a barrier before each phase).
// Each round (in the redis dialect, POST is SET NX and DELETE is DEL):
//   1. every client POSTs the same new key: exactly one may get OK;
//   2. every client INCRs one new counter several times: every INCR must
//      return a different number, and the counter must end at the number of
//      acknowledged INCRs;
//   3. (even rounds) every client DELETEs the key: exactly one may get OK.
// At the end, one DUMP must match what the acknowledged operations left.
// The operations of a phase that went wrong also go through the
// linearizability checker, for the timeline of the report page.

const ERROR_REPLY = 'a reply that no correct server gives to this command.';

/** What each anomaly means, naming the commands as `dialect` sends them (POST, or SET NX). */
function meanings(dialect: Dialect) {
  const create = dialect.command('create');
  const remove = dialect.command('delete');
  // "POSTed" in ours, as the course says it; "sent SET NX for" in Redis's.
  const created = dialect.name === 'native' ? 'POSTed' : `sent ${create} for`;
  return {
    doubleCreate: `several clients ${created} the same new key at the same moment and more than one got OK. ` +
      'Each believes it created the key; all but one value were silently overwritten. (Check-then-act without a ' +
      'lock: each checked "absent" before any of them stored.)',
    lostUpdate: 'two INCRs returned the same number: both read the same old value and both wrote old+1, so one ' +
      'increment was acknowledged and then lost.',
    doubleDelete: `more than one ${remove} of the same key got OK: each client believes it removed the key.`,
    noWinner: 'no client got OK, although a correct server lets exactly one succeed.',
    finalState: 'the DUMP at the end does not hold what the acknowledged operations left.',
  };
}

export async function contentionScenario(context: ScenarioContext): Promise<ScenarioResult> {
  const { options, prefix, dialect } = context;
  const anomalies = new AnomalyLog();
  const MEANING = meanings(dialect);
  const create = dialect.command('create');
  const remove = dialect.command('delete');
  const expected = new Map<string, { value: string | null; or?: string[]; why: string }>();
  let lostIncrements = 0;
  const clients = await openClients(options.contentionClients, context.host, context.port, dialect);
  const started = performance.now();

  for (let round = 1; round <= options.rounds; round++) {
    context.progress(`contention: round ${round}/${options.rounds}`);
    const item = `${prefix}contention:r${round}:item`;
    const counter = `${prefix}contention:r${round}:counter`;

    // 1. Everyone creates the same key.
    const posts = await together(clients, (c) => c.run({ kind: 'create', key: item, value: `client${c.id}` }));
    reportErrors(posts, anomalies);
    const created = posts.filter((p) => p.outcome.kind === 'ok');
    if (created.length > 1) {
      anomalies.add('double create', MEANING.doubleCreate,
        `round ${round}, key ${item}: ${created.length} of ${clients.length} clients got OK for ${create} ` +
        `(${created.map((p) => `client ${p.client} wrote ${JSON.stringify(p.op.value)}`).join(', ')}); ` +
        'expected exactly one OK and ALREADY_EXISTS for the others',
        anomalies.keepsSample('double create') ? raceTimeline(item, posts, started, dialect) : undefined);
    } else if (created.length === 0) {
      anomalies.add('no winner', MEANING.noWinner, `round ${round}, key ${item}: every ${create} failed: ${summarize(posts)}`);
    }

    // 2. Everyone increments the same counter, several times each.
    const incrs = (await together(clients, async (c) => {
      const mine: TimedOperation[] = [];
      for (let i = 0; i < options.incrs; i++) mine.push(await c.run({ kind: 'incr', key: counter }));
      return mine;
    })).flat();
    reportErrors(incrs, anomalies);
    const numbers = incrs.flatMap((p) => (p.outcome.kind === 'integer' ? [{ value: p.outcome.value, client: p.client }] : []));
    const seen = new Map<number, number[]>();
    for (const { value, client } of numbers) seen.set(value, [...(seen.get(value) ?? []), client]);
    const repeated = [...seen].filter(([, who]) => who.length > 1);
    if (repeated.length > 0) {
      const lost = numbers.length - seen.size;
      lostIncrements += lost;
      const [value, who] = repeated[0]!;
      anomalies.add('lost update', MEANING.lostUpdate,
        `round ${round}, key ${counter}: ${numbers.length} INCRs were acknowledged but only ${seen.size} different ` +
        `numbers came back (${lost} lost); for example clients ${namesWithCounts(who)} all got ${value}`,
        anomalies.keepsSample('lost update') ? raceTimeline(counter, incrs, started, dialect) : undefined);
    }
    expected.set(counter, { value: String(numbers.length), why: `${numbers.length} INCRs were acknowledged` });

    // 3. Every other round, everyone deletes the key.
    if (round % 2 === 0) {
      const deletes = await together(clients, (c) => c.run({ kind: 'delete', key: item }));
      reportErrors(deletes, anomalies);
      const removed = deletes.filter((p) => p.outcome.kind === 'ok');
      if (removed.length > 1) {
        anomalies.add('double delete', MEANING.doubleDelete,
          `round ${round}, key ${item}: clients ${removed.map((p) => p.client).join(', ')} all got OK for ${remove}; expected exactly one`,
          anomalies.keepsSample('double delete') ? raceTimeline(item, [...posts, ...deletes], started, dialect) : undefined);
      } else if (removed.length === 0 && created.length > 0) {
        anomalies.add('no winner', MEANING.noWinner, `round ${round}, key ${item}: every ${remove} failed: ${summarize(deletes)}`);
      }
      if (removed.length > 0) expected.set(item, { value: null, why: `client ${removed[0]!.client}'s ${remove} was acknowledged` });
    } else if (created.length > 0) {
      expected.set(item, {
        value: created.length === 1 ? created[0]!.op.value! : null,
        or: created.map((p) => p.op.value!),
        why: created.length === 1 ? `client ${created[0]!.client}'s ${create} was the one that succeeded` : `one of the successful ${create}s`,
      });
    }
  }
  context.progress('');
  const seconds = (performance.now() - started) / 1000;

  const stored = await dialect.dump(clients[0]!.connection, `${prefix}contention:`);
  await closeClients(clients);
  let lostInState = 0;
  for (const [key, want] of expected) {
    const got = stored.get(key) ?? null;
    const fine = got === want.value || (got !== null && want.or?.includes(got));
    if (fine) continue;
    if (key.endsWith(':counter') && got !== null) lostInState += Number(want.value) - Number(got);
    anomalies.add('final state differs', MEANING.finalState,
      `key ${key}: DUMP shows ${got === null ? 'no such key' : JSON.stringify(got)}, expected ` +
      `${want.value === null && !want.or ? 'no such key' : JSON.stringify(want.value ?? want.or)} because ${want.why}`);
  }

  const list = anomalies.list();
  return {
    name: 'contention',
    verdict: list.length === 0 ? 'SUCCESS' : 'FAIL',
    description: `${clients.length} clients x ${options.incrs} INCRs per round, ${options.rounds} rounds on fresh keys, a barrier before each phase`,
    figures: {
      rounds: options.rounds,
      'rounds with a double create': anomalies.count('double create'),
      'rounds with lost INCRs': anomalies.count('lost update'),
      'INCRs lost (acknowledged, not counted)': Math.max(lostIncrements, lostInState),
      'rounds with a double delete': anomalies.count('double delete'),
      'keys whose final state differs': anomalies.count('final state differs'),
      'error replies': anomalies.count('error reply'),
      seconds: seconds.toFixed(2),
    },
    details: [],
    anomalies: list,
  };
}

/** The checker's view of one phase on a fresh key: its timeline, if the checker finds it not linearizable within a second. */
function raceTimeline(key: string, operations: TimedOperation[], origin: number, dialect: Dialect): KeyTimeline | undefined {
  const verdict = checkKey(key, operations, performance.now() + 1000, null);
  if (verdict.verdict !== 'violation') return undefined;
  const { text } = explainViolation(key, verdict.violation, origin, dialect.describe);
  return keyTimeline(key, verdict.violation, origin, text, dialect.describe);
}

function reportErrors(results: TimedOperation[], anomalies: AnomalyLog): void {
  for (const result of results) {
    if (result.outcome.kind === 'error' || result.outcome.kind === 'noreply') {
      anomalies.add('error reply', ERROR_REPLY, `client ${result.client}: ${describeOutcome(result.outcome)}`);
    }
  }
}

function summarize(results: TimedOperation[]): string {
  return results.map((r) => `client ${r.client} ${describeOutcome(r.outcome)}`).join(', ');
}

/** `1, 2, 8 (twice)`: each client once, with how often it appears when more than once (a client's own INCRs can repeat a number too). */
function namesWithCounts(clients: number[]): string {
  const counts = new Map<number, number>();
  for (const client of clients) counts.set(client, (counts.get(client) ?? 0) + 1);
  const times = (n: number) => (n === 2 ? ' (twice)' : n > 2 ? ` (${n} times)` : '');
  return [...counts].map(([client, n]) => `${client}${times(n)}`).join(', ');
}
