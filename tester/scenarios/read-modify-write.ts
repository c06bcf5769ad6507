import { performance } from 'node:perf_hooks';
import type { Connection } from '../../shared/client/connection.ts';
import { describeReply, type Reply } from '../../shared/protocol/reply.ts';
import { closeClients, openClients, type TesterClient } from '../client.ts';
import { AnomalyLog, type ScenarioResult } from '../report.ts';
import type { ScenarioContext } from '../options.ts';
import { together } from './together.ts';

// Read-modify-write done by the CLIENT: read a counter, add one, write it
// back. The server's own INCR does this under its lock; here the read and the
// write are two requests, and other clients' requests run between them - on
// any server, however well it locks each command (step 06, Redis itself).
// Three ways for the clients to do it, each a scenario (none is in `all`):
//
//   get-then-set  GET k; SET k v+1. Lost updates: several clients read the
//                 same v and all write v+1. FAILS everywhere, by design.
//   watch         WATCH k; GET k; MULTI; SET k v+1; EXEC. EXEC runs only if
//                 nobody wrote k since WATCH; otherwise it replies null and
//                 the client tries again (optimistic concurrency, or
//                 check-and-set). Nothing is lost: SUCCESS where EXEC is
//                 atomic (steps 01, 03-06, Redis), FAIL in step 02 (no lock).
//   client-lock   SET lock me NX (until OK); GET k; SET k v+1; DEL lock. A lock
//                 held by the client: correct while every client plays by the
//                 rule, but it costs two more round trips, waiting clients
//                 retry in a loop, and a client that dies holding it blocks
//                 everyone (no expiry yet).
//   server-incr   INCR k: the server reads, adds and writes under its own
//                 lock, in one request. The yardstick for the three above.
//
// Each round: a fresh counter, the clients start together (a barrier), each
// adds --incrs; the counter must end at the number of acknowledged additions.

export type RmwMode = 'get-then-set' | 'watch' | 'client-lock' | 'server-incr';

const LOST_UPDATE: Record<RmwMode, string> = {
  'get-then-set': 'the counter ended below the number of acknowledged increments: two clients read the same value, ' +
    'both wrote value+1, and one increment was silently lost. Each command was atomic; the pair GET-then-SET was ' +
    'not: another client ran between them. Only the server can make the pair atomic: with WATCH/MULTI/EXEC ' +
    '(optimistic, retried), with a lock every client respects, or with a command that does both (INCR).',
  watch: 'the counter ended below the number of acknowledged increments although every increment was a ' +
    'WATCH/MULTI/EXEC transaction: two EXECs both found the watched key unchanged and both wrote value+1. ' +
    'EXEC\'s check and its commands were not atomic - a server without a lock (step 02) runs other threads\' ' +
    'commands between them, exactly like the check-then-act of a create (POST, SET NX) without a lock.',
  'client-lock': 'the counter ended below the number of acknowledged increments although every client took the ' +
    'lock (SET NX) first: two clients held it at once, so SET NX itself was not atomic on this server (step 02).',
  'server-incr': 'the counter ended below the number of acknowledged INCRs: the server\'s own read-add-write was ' +
    'not atomic (no lock: step 02).',
};

const MEANING = {
  errorReply: 'a reply that no correct server gives to this command.',
  starved: 'a client retried its transaction many times without ever succeeding.',
};

// A client that cannot get its increment in after this many tries gives up (an anomaly).
const MAX_ATTEMPTS = 10_000;

export function readModifyWriteScenario(mode: RmwMode) {
  return async (context: ScenarioContext): Promise<ScenarioResult> => {
    const { options, prefix } = context;
    const anomalies = new AnomalyLog();
    const clients = await openClients(options.contentionClients, context.host, context.port, context.dialect);
    let acknowledged = 0;
    let attempts = 0;
    let lost = 0;
    let roundsWithLoss = 0;
    const started = performance.now();
    try {
      for (let round = 1; round <= options.rounds; round++) {
        context.progress(`${mode}: round ${round}/${options.rounds}`);
        const key = `${prefix}rmw:${mode}:r${round}`;
        const lock = `${key}:lock`;
        await expect(clients[0]!.connection, ['SET', key, '0'], 'OK');
        const perClient = await together(clients, async (client) => {
          let mine = 0;
          let tries = 0;
          for (let i = 0; i < options.incrs; i++) {
            const result = await incrementOnce(mode, client, key, lock);
            tries += result.attempts;
            if (result.error !== null) anomalies.add(result.starved ? 'starved' : 'error reply', result.starved ? MEANING.starved : MEANING.errorReply, `round ${round}, client ${client.id}: ${result.error}`);
            else mine++;
          }
          return { mine, tries };
        });
        const done = perClient.reduce((sum, p) => sum + p.mine, 0);
        attempts += perClient.reduce((sum, p) => sum + p.tries, 0);
        acknowledged += done;
        // On a server without locks (step 02) a race can lose the key itself: the counter then ends at nothing.
        const finalReply = await clients[0]!.connection.send('GET', key);
        const vanished = finalReply.type === 'bulk' && finalReply.value === null;
        const final = vanished ? 0 : Number(text(finalReply));
        if (final < done) {
          lost += done - final;
          roundsWithLoss++;
          anomalies.add('lost update', LOST_UPDATE[mode],
            `round ${round}, key ${key}: ${done} increments were acknowledged (${clients.length} clients x ${options.incrs}), ` +
            `the counter ends at ${vanished ? 'nothing (GET replied (nil))' : final}: ${done - final} lost`);
        }
      }
    } finally {
      context.progress('');
      await closeClients(clients);
    }
    const seconds = (performance.now() - started) / 1000;
    const list = anomalies.list();
    return {
      name: mode,
      verdict: list.length === 0 ? 'SUCCESS' : 'FAIL',
      description: `${clients.length} clients x ${options.incrs} read-modify-write increments per round, ` +
        `${options.rounds} rounds, a barrier before each, done with ${DESCRIPTION[mode]}`,
      figures: {
        rounds: options.rounds,
        'rounds with lost increments': roundsWithLoss,
        'increments acknowledged': acknowledged,
        'increments lost (acknowledged, not counted)': lost,
        'attempts per increment': (attempts / Math.max(1, acknowledged)).toFixed(2),
        'increments per second': Math.round(acknowledged / seconds),
        seconds: seconds.toFixed(2),
      },
      details: [],
      anomalies: list,
    };
  };
}

const DESCRIPTION: Record<RmwMode, string> = {
  'get-then-set': 'GET then SET',
  watch: 'WATCH, GET, MULTI, SET, EXEC (retried when EXEC replies null)',
  'client-lock': 'a lock held by the client (SET lock NX until OK, GET, SET, DEL lock)',
  'server-incr': 'INCR (the server reads, adds and writes in one command)',
};

interface Attempt {
  attempts: number;
  error: string | null;
  starved?: boolean;
}

async function incrementOnce(mode: RmwMode, client: TesterClient, key: string, lock: string): Promise<Attempt> {
  const c = client.connection;
  try {
    switch (mode) {
      case 'get-then-set': {
        const value = Number(text(await c.send('GET', key)));
        await expect(c, ['SET', key, String(value + 1)], 'OK');
        return { attempts: 1, error: null };
      }
      case 'watch':
        for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
          await expect(c, ['WATCH', key], 'OK');
          const value = Number(text(await c.send('GET', key)));
          await expect(c, ['MULTI'], 'OK');
          await expect(c, ['SET', key, String(value + 1)], 'QUEUED');
          const result = await c.send('EXEC');
          if (result.type === 'array' && result.value === null) continue; // someone wrote it first: again
          if (result.type !== 'array' || describeReply(result) !== '[OK]') throw new Error(`EXEC replied ${describeReply(result)}`);
          return { attempts: attempt, error: null };
        }
        return { attempts: MAX_ATTEMPTS, error: `no EXEC succeeded in ${MAX_ATTEMPTS} tries`, starved: true };
      case 'server-incr': {
        const reply = await c.send('INCR', key);
        if (reply.type !== 'integer') throw new Error(`INCR replied ${describeReply(reply)}`);
        return { attempts: 1, error: null };
      }
      case 'client-lock': {
        const me = `client${client.id}`;
        for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
          const got = await c.send('SET', lock, me, 'NX');
          if (got.type === 'bulk' && got.value === null) continue; // someone holds it: spin
          const value = Number(text(await c.send('GET', key)));
          await expect(c, ['SET', key, String(value + 1)], 'OK');
          await c.send('DEL', lock);
          return { attempts: attempt, error: null };
        }
        return { attempts: MAX_ATTEMPTS, error: `the lock was never free in ${MAX_ATTEMPTS} tries`, starved: true };
      }
    }
  } catch (caught) {
    return { attempts: 1, error: (caught as Error).message };
  }
}

async function expect(c: Connection, request: string[], want: string): Promise<void> {
  const reply = await c.send(...request);
  if (describeReply(reply) !== want) throw new Error(`${request[0]} replied ${describeReply(reply)}, expected ${want}`);
}

function text(reply: Reply): string {
  if (reply.type !== 'bulk' || reply.value === null) throw new Error(`GET replied ${describeReply(reply)}`);
  return reply.value.toString();
}
