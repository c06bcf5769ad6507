import { performance } from 'node:perf_hooks';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { findStep } from '../../shared/cli/steps.ts';
import { TesterClient } from '../client.ts';
import { checkHistory } from '../checker/linearizability.ts';
import { explainViolation } from '../checker/explain.ts';
import { FaultLog, faultTimeline } from '../faults.ts';
import { FaultProxy } from '../fault-proxy.ts';
import { describeOutcome, type Operation, type TimedOperation } from '../operations.ts';
import { keyTimeline } from '../pictures.ts';
import { AnomalyLog, type ScenarioResult } from '../report.ts';
import { COLUMNS } from '../wrap.ts';
import { replicationInfo, startNode, waitFor, within, type NodeKind, type ReplicationNode } from '../replication-nodes.ts';
import type { Dialect } from '../dialect.ts';
import type { ScenarioContext, TesterOptions } from '../options.ts';

// Asynchronous replication, and what it does not promise. A primary and a
// replica (step 06, or two real redis-servers with --dialect redis), the
// replica following the primary through a fault proxy (../fault-proxy.ts).
// Client 1 talks to the primary, client 2 to the replica. Four phases, each on
// a fresh pair and a key of its own, each fault MADE rather than hoped for, so
// that every run shows the same anomalies:
//
// 1. stale read: the link is blackholed, the primary acknowledges PUT k "v2",
//    the replica still answers "v1" (it cannot have v2). Then the link heals
//    and the replica catches up; with the link delayed, WAIT takes a while.
// 2. failover without WAIT: the link is blackholed, the primary acknowledges
//    a write (WAIT 1 300 says 0: not known to be replicated), the primary is
//    SIGKILLed, the replica promoted (REPLICAOF NO ONE): the write is gone.
// 3. failover with WAIT: the same, but WAIT 1 said the replica had the write
//    before the primary was killed: the promoted replica has it.
// 4. split brain: the primary is SIGSTOPped and the link cut; a write sent to
//    the stopped primary waits in its socket; the replica is promoted and
//    takes a write of the same key; SIGCONT: the old primary acknowledges its
//    write too. Two primaries, two values. The old one is then made a replica
//    of the new one, and its acknowledged write is thrown away.
//
// Every history goes to the linearizability checker, whose sentence explains
// the anomaly (../checker/explain.ts); the faults are drawn as bands on the
// report page's timelines and as lines among the text timeline's operations.
// The verdict is FAIL by design: this is the lesson.

const CONFIRM_MS = 10_000;
/** How long an operation may wait for its reply before it is recorded as unanswered (a server that holds it). */
const REPLY_MS = 10_000;
/** How long a command of the scenario's own (WAIT past its timeout, REPLICAOF) may take before the run stops, saying so. */
const COMMAND_MS = 10_000;

/** Which servers to start: --step / --server, or redis-server with --dialect redis. */
export function replicationNodes(options: TesterOptions): { what: NodeKind; label: string } {
  const args = options.serverArgs.split(' ').filter((arg) => arg !== '');
  if (options.step !== '') {
    const step = findStep(options.step);
    return { what: { kind: 'server', file: step.server, args }, label: `step ${step.name}` };
  }
  if (options.server !== '') return { what: { kind: 'server', file: options.server, args }, label: options.server };
  if (options.dialect === 'redis') return { what: { kind: 'redis' }, label: 'redis-server' };
  throw new Error('the replication scenario starts its own primary and replica: give --step 06 (or --server FILE), or --dialect redis for redis-server');
}

/** A primary, a proxy, a replica of the primary through it, a client on each, and what happened. */
class Pair {
  readonly origin = performance.now();
  readonly faults = new FaultLog(this.origin);
  readonly history: TimedOperation[] = [];

  /** The scenario's own connections (INFO, REPLICAOF), one per server, apart from the clients'. */
  private readonly admins = new Map<ReplicationNode, Connection>();

  private constructor(
    readonly primary: ReplicationNode,
    readonly proxy: FaultProxy,
    readonly replica: ReplicationNode,
    /** Client 1, on the primary; client 2, on the replica (the new primary after a failover). */
    private readonly clients: { writer: TesterClient; reader: TesterClient },
    private readonly dialect: Dialect,
  ) {}

  get writer(): TesterClient {
    return this.clients.writer;
  }

  get reader(): TesterClient {
    return this.clients.reader;
  }

  static async start(what: NodeKind, context: ScenarioContext): Promise<Pair> {
    const started: Array<ReplicationNode | FaultProxy> = [];
    try {
      const primary = await startNode(what, null);
      started.push(primary);
      const proxy = await FaultProxy.start(primary.host, primary.port);
      started.push(proxy);
      const replica = await startNode(what, { host: '127.0.0.1', port: proxy.port });
      started.push(replica);
      const writer = await TesterClient.open(1, primary.host, primary.port, context.dialect);
      const reader = await TesterClient.open(2, replica.host, replica.port, context.dialect);
      const pair = new Pair(primary, proxy, replica, { writer, reader }, context.dialect);
      await pair.linkIs(replica, 'up', 'the replica to sync with its primary');
      return pair;
    } catch (caught) {
      for (const thing of started.reverse()) await (thing instanceof FaultProxy ? thing.close() : thing.stop());
      throw caught;
    }
  }

  /**
   * Runs an operation and records it. A reply that has not come within
   * REPLY_MS is recorded as none (the write may still take effect, at any
   * later time: the checker allows for that); it arrives later unread.
   */
  async run(who: 'writer' | 'reader', op: Operation): Promise<TimedOperation> {
    const client = this.clients[who];
    const invokedAt = performance.now();
    let timedOut = false;
    const done = await within(client.run(op), REPLY_MS, 'reply').catch((): TimedOperation => {
      timedOut = true;
      return { client: client.id, op, outcome: { kind: 'noreply', text: `no reply within ${REPLY_MS / 1000} s` }, invokedAt, returnedAt: Infinity };
    });
    this.history.push(done);
    if (timedOut) {
      // Its replies are in order: everything sent after it on this connection would wait too. A new one.
      client.connection.destroy();
      const node = who === 'writer' ? this.primary : this.replica;
      this.clients[who] = await TesterClient.open(client.id, node.host, node.port, this.dialect);
    }
    return done;
  }

  /** The scenario's own connection to a server. */
  async admin(node: ReplicationNode): Promise<Connection> {
    let connection = this.admins.get(node);
    if (connection === undefined) {
      connection = await Connection.open(node.host, node.port);
      this.admins.set(node, connection);
    }
    return connection;
  }

  /** Waits until the server's master_link_status is `state` (INFO replication). */
  async linkIs(node: ReplicationNode, state: 'up' | 'down', what: string): Promise<void> {
    const connection = await this.admin(node);
    await waitFor(async () => (await replicationInfo(connection, 'master_link_status')) === state, what, 30_000, node.log);
  }

  /** REPLICAOF on a server (NO ONE, or host port), through the scenario's own connection. */
  async replicaOf(node: ReplicationNode, host: string, port: string): Promise<void> {
    const reply = await within((await this.admin(node)).send('REPLICAOF', host, port), COMMAND_MS, `reply to REPLICAOF ${host} ${port}`);
    if (!describeReply(reply).startsWith('OK')) throw new Error(`REPLICAOF ${host} ${port} replied ${describeReply(reply)}`);
  }

  /** WAIT 1 timeoutMs on the primary, through client 1: how many replicas acknowledged its writes. */
  async wait(timeoutMs: number, client: TesterClient = this.writer): Promise<number> {
    const reply = await within(client.connection.send('WAIT', 1, timeoutMs), timeoutMs + COMMAND_MS, `reply to WAIT 1 ${timeoutMs}`);
    if (reply.type !== 'integer') throw new Error(`WAIT replied ${describeReply(reply)}`);
    return reply.value;
  }

  /** WAIT until the replica has every write so far, or an error: a phase needs its starting point. */
  async confirm(what: string, client: TesterClient = this.writer): Promise<void> {
    const count = await this.wait(CONFIRM_MS, client);
    if (count < 1) throw new Error(`WAIT 1 ${CONFIRM_MS} replied ${count} ${what}: the replica did not acknowledge`);
  }

  async kill(node: ReplicationNode, name: string): Promise<void> {
    this.faults.begin(`${name} SIGKILLed (pid ${node.pid})`);
    node.signal('SIGKILL');
    await node.exited;
  }

  /** REPLICAOF NO ONE on the replica (through the scenario's own connection), marked on the timeline. */
  async promote(): Promise<void> {
    await this.replicaOf(this.replica, 'NO', 'ONE');
    this.faults.moment('replica promoted (REPLICAOF NO ONE)');
  }

  /** Ends everything; returns the pids that had to be killed. */
  async stop(): Promise<number[]> {
    this.writer.connection.destroy();
    this.reader.connection.destroy();
    for (const connection of this.admins.values()) connection.destroy();
    const left = [...await this.replica.stop(), ...await this.primary.stop()];
    await this.proxy.close();
    return left;
  }
}

export async function replicationScenario(context: ScenarioContext): Promise<ScenarioResult> {
  const { what, label } = replicationNodes(context.options);
  const key = (name: string) => `${context.prefix}repl:${name}`;
  const anomalies = new AnomalyLog();
  const figures: Record<string, string | number> = {};
  const details: string[] = ['client 1 talks to the primary, client 2 to the replica (the new primary after a failover);',
    'the replica follows the primary through a fault proxy on 127.0.0.1 (tester/fault-proxy.ts).'];
  const leftovers: number[] = [];
  const started = performance.now();
  const create = (k: string, value: string): Operation => ({ kind: 'create', key: k, value });
  const update = (k: string, value: string): Operation => ({ kind: 'update', key: k, value });
  const read = (k: string): Operation => ({ kind: 'read', key: k });

  /** Checks a phase's history; a violation becomes an anomaly of `kind`, with the checker's sentence and the faults. */
  const check = (pair: Pair, k: string, kind: string, meaning: string, summary: string): boolean => {
    const verdict = checkHistory(pair.history, { timeLimitMs: context.options.timeLimit * 1000 }).keys.find((v) => v.key === k);
    if (verdict?.verdict !== 'violation') return false;
    // The checker's sentence and the text timeline, in the commands the dialect sent (SET k "v" XX, not PUT).
    const { describe } = context.dialect;
    const sentence = explainViolation(k, verdict.violation, pair.origin, describe).text;
    const timeline = { ...keyTimeline(k, verdict.violation, pair.origin, sentence, describe), faults: pair.faults.bands };
    anomalies.add(kind, meaning, `${summary}\n${sentence}\n${faultTimeline(pair.history, pair.faults.bands, pair.origin, verdict.violation.stuck, describe)}`, timeline);
    return true;
  };

  const phase = async (name: string, body: (pair: Pair) => Promise<void>) => {
    context.progress(`replication: ${name}`);
    const pair = await Pair.start(what, context);
    try {
      await body(pair);
    } finally {
      leftovers.push(...await pair.stop());
    }
  };
  const said = (done: TimedOperation) => `${context.dialect.describe(done.op)} -> ${describeOutcome(done.outcome)}`;

  // 1. A stale read from the replica, and the replica catching up.
  await phase('stale read', async (pair) => {
    const k = key('stale');
    await pair.run('writer', create(k, 'v1'));
    await pair.confirm('after the first write');
    const blackhole = pair.faults.begin('link primary -> replica blackholed', 'the link healed');
    pair.proxy.blackhole();
    const write = await pair.run('writer', update(k, 'v2'));
    const stale = await pair.run('reader', read(k));
    pair.proxy.heal();
    blackhole.end();
    await pair.confirm('after the link healed');
    const caughtUp = await pair.run('reader', read(k));
    // With the link delayed, WAIT waits for the write to cross it and the acknowledgement to come back.
    const delay = pair.faults.begin('link delayed 100 ms each way', 'the link healed');
    pair.proxy.delay(100);
    await pair.run('writer', update(k, 'v3'));
    const waitStarted = performance.now();
    await pair.confirm('through the delayed link');
    figures['WAIT 1 through a link delayed 100 ms each way, ms'] = Math.round(performance.now() - waitStarted);
    pair.proxy.heal();
    delay.end();
    await pair.run('reader', read(k));
    const found = check(pair, k, 'stale read',
      'a read from the replica returned an older value than a write the primary had already acknowledged. Replication is ' +
      'asynchronous: the primary answers OK as soon as it has applied the write, and the replica gets it later (here the ' +
      'link was blackholed before the write, so the replica could not have it).',
      `With the link blackholed, the primary acknowledged client 1's ${said(write)}; then client 2's GET on the replica ` +
      `returned ${describeOutcome(stale.outcome)}. After the link healed, the replica caught up: ${said(caughtUp)}.`);
    figures['stale reads from the replica'] = found ? 1 : 0;
  });

  // 2. Failover without WAIT: an acknowledged write is lost.
  await phase('failover without WAIT', async (pair) => {
    const k = key('failover');
    await pair.run('writer', create(k, 'v1'));
    await pair.confirm('after the first write');
    pair.faults.begin('link primary -> replica blackholed');
    pair.proxy.blackhole();
    const write = await pair.run('writer', update(k, 'v2'));
    // (A primary that holds the OK until the replica has the write, as in exercise 06/sync-replicas,
    // would hold WAIT's reply behind it too: no WAIT then.)
    const replicas = write.outcome.kind === 'noreply' ? 'not sent (the write was not answered)' : await pair.wait(300);
    figures['WAIT 1 300 after a write the link held back'] = replicas;
    await pair.kill(pair.primary, 'primary');
    await pair.promote();
    const after = await pair.run('reader', read(k));
    const lost = check(pair, k, 'lost write',
      'the primary acknowledged a write and was SIGKILLed before the write reached its replica; the replica, promoted, ' +
      'does not have it. A client was told OK, and the write is gone.',
      `The primary acknowledged client 1's ${said(write)}, WAIT 1 300 replied ${replicas} (not known to be replicated), ` +
      `the primary was SIGKILLed and the replica promoted; then client 2's GET on it returned ${describeOutcome(after.outcome)}.`);
    figures['acknowledged writes lost in a failover without WAIT'] = lost ? 1 : 0;
  });

  // 3. Failover with WAIT: the write WAIT confirmed is kept.
  await phase('failover with WAIT', async (pair) => {
    const k = key('failover-wait');
    await pair.run('writer', create(k, 'v1'));
    await pair.confirm('after the first write');
    const write = await pair.run('writer', update(k, 'v2'));
    await pair.confirm(`after ${context.dialect.describe(write.op)}`);
    pair.faults.begin('link primary -> replica blackholed');
    pair.proxy.blackhole(); // nothing sent after WAIT's answer can help the replica
    await pair.kill(pair.primary, 'primary');
    await pair.promote();
    const after = await pair.run('reader', read(k));
    const lost = check(pair, k, 'lost write despite WAIT',
      'WAIT said the replica had the write, yet the promoted replica does not: this must never happen.',
      `WAIT 1 confirmed client 1's ${said(write)}, then the primary was SIGKILLed and the replica promoted; ` +
      `client 2's GET on it returned ${describeOutcome(after.outcome)}.`);
    figures['writes WAIT confirmed, kept after the failover'] = lost ? '0 of 1' : '1 of 1';
    details.push('', `failover with WAIT: ${said(write)} confirmed by WAIT 1, then the primary SIGKILLed; after the promotion ${said(after)}:`,
      // (Indented by 2 here and by 3 in the text report: 5 columns fewer.)
      ...faultTimeline(pair.history, pair.faults.bands, pair.origin, undefined, context.dialect.describe, COLUMNS - 5)
        .split('\n').map((line) => `  ${line}`));
  });

  // 4. Split brain: the old primary, stopped and then continued, and the promoted replica both accept writes.
  await phase('split brain', async (pair) => {
    const k = key('split');
    await pair.run('writer', create(k, 'v1'));
    await pair.confirm('after the first write');
    const stopped = pair.faults.begin(`primary SIGSTOPped (pid ${pair.primary.pid})`, 'SIGCONT');
    pair.primary.signal('SIGSTOP');
    pair.faults.begin('link primary -> replica cut');
    pair.proxy.cut();
    await pair.linkIs(pair.replica, 'down', 'the replica to see its link down');
    // Sent to the stopped primary: it waits in the socket, and is answered after SIGCONT.
    const oldWrite = pair.run('writer', update(k, 'from-old-primary'));
    await pair.promote();
    const newWrite = await pair.run('reader', update(k, 'from-new-primary'));
    pair.primary.signal('SIGCONT');
    stopped.end();
    const oldDone = await oldWrite;
    const onOld = await pair.run('writer', read(k));
    const onNew = await pair.run('reader', read(k));
    // The operator's repair: the old primary becomes a replica of the new one.
    await pair.replicaOf(pair.primary, pair.replica.host, String(pair.replica.port));
    pair.faults.moment('old primary made a replica of the new one');
    await pair.linkIs(pair.primary, 'up', 'the old primary to sync with the new one');
    await pair.confirm('on the new primary, for the old one', pair.reader);
    const rejoined = await pair.run('writer', read(k));
    const both = oldDone.outcome.kind === 'ok' && newWrite.outcome.kind === 'ok';
    const lost = both && rejoined.outcome.kind === 'value' && rejoined.outcome.value !== oldDone.op.value;
    const found = check(pair, k, 'split brain',
      'two servers both acted as the primary at once and took writes of the same key, so that reads saw two histories; ' +
      'when the old primary rejoined as a replica of the new one, the writes it had taken (acknowledged ones included) ' +
      'were thrown away.',
      `The primary was SIGSTOPped and the link cut; the replica was promoted and acknowledged client 2's ${said(newWrite)}; ` +
      `after SIGCONT the old primary ${oldDone.outcome.kind === 'ok' ? 'acknowledged' : 'took, without acknowledging it,'} ` +
      `client 1's ${said(oldDone)} (sent while it was stopped). Two primaries: ` +
      `GET on the old one returned ${describeOutcome(onOld.outcome)}, on the new one ${describeOutcome(onNew.outcome)}. ` +
      `After the old primary rejoined as a replica of the new one, GET on it returned ${describeOutcome(rejoined.outcome)}` +
      `${lost ? `: the write the old primary acknowledged (${JSON.stringify(oldDone.op.value)}) is lost` : ''}.`);
    figures['split brain: writes of one key acknowledged by both primaries'] = found && both ? 2 : 0;
    figures['acknowledged writes lost when the old primary rejoined'] = lost ? 1 : 0;
  });

  figures.seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (leftovers.length > 0) details.push(`processes left running after their server stopped, killed: ${leftovers.join(', ')}`);
  const list = anomalies.list();
  return {
    name: 'replication',
    verdict: list.length > 0 ? 'FAIL' : 'SUCCESS',
    description: `${label}: a primary and a replica through a fault proxy; stale read, failover with and without WAIT, split brain`,
    figures,
    details,
    anomalies: list,
  };
}
