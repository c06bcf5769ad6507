import { performance } from 'node:perf_hooks';
import { closeClients, openClients } from '../client.ts';
import { ProcessTreeMonitor, type ProcessFigures } from '../proc-stats.ts';
import { describeOutcome, type OpKind, type Operation } from '../operations.ts';
import { AnomalyLog, type ScenarioResult } from '../report.ts';
import { BUCKET_LIMITS_MS, histogram, summarize, thousands } from '../stats.ts';
import { latencyHistogram, sparkline, throughput } from '../pictures.ts';
import type { ScenarioContext } from '../options.ts';
import type { Connection } from '../../shared/client/connection.ts';

// Closed-loop load: each client sends `pipeline` commands, waits for all their
// replies, and sends again at once, for a duration or a count. A command's
// latency is the time from the write of its batch to the arrival of the last
// reply of the batch. NOT_FOUND and ALREADY_EXISTS are normal answers here;
// only error replies and lost connections are anomalies.
//
// This client is Node on the same 2 cores as the server: against step 01 it
// reached [about 30,000](docs/figures.md#node-load-client-ops) requests/s. Above
// that, measure with redis-benchmark (see tester/README.md).

const COMMAND_KINDS: Record<string, OpKind> = { get: 'read', put: 'update', post: 'create', delete: 'delete', incr: 'incr' };

export function parseMix(text: string): Record<OpKind, number> {
  const mix: Record<OpKind, number> = { read: 0, update: 0, create: 0, delete: 0, incr: 0 };
  for (const part of text.split(',')) {
    const match = /^\s*(\w+)\s*=\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
    const kind = match && COMMAND_KINDS[match[1]!.toLowerCase()];
    if (!match || !kind) throw new Error(`--mix: cannot read '${part}' (write it like get=50,put=25,post=15,delete=10,incr=0)`);
    mix[kind] = Number(match[2]);
  }
  if (Object.values(mix).every((weight) => weight === 0)) throw new Error('--mix: every weight is 0');
  return mix;
}

/**
 * The server's race window (steps 02 and 03, --race-window-ms, from INFO), in
 * the words the load figures use: 'none', '1 ms', or '1 ms in lock' when the
 * window is held inside a lock (step 03), which caps the throughput: every
 * POST, PUT, DELETE and INCR then sleeps that long while the others wait.
 */
export async function raceWindow(connection: Connection): Promise<string> {
  const reply = await connection.send('INFO');
  const text = reply.type === 'bulk' && reply.value !== null ? reply.value.toString('utf8') : '';
  const ms = Number(/^race_window_ms:(\S+)/m.exec(text)?.[1] ?? 0);
  const lock = /^lock:(\S+)/m.exec(text)?.[1] ?? 'none';
  if (!(ms > 0)) return 'none';
  return lock === 'none' ? `${ms} ms` : `${ms} ms in lock`;
}

/** Said beside a throughput measured with a race window inside the lock. */
export function raceWindowNote(name: string, window: string): string | null {
  if (!window.endsWith(' in lock')) return null;
  const ms = window.replace(' in lock', '');
  return `${name} holds its ${ms} race window inside its lock: every POST, PUT, DELETE and INCR sleeps ` +
    `${ms} while the others wait for the lock, so its ops/s is capped by that sleep, not by its code ` +
    '(start it with --race-window-ms 0, or KV_RACE_WINDOW_MS=0, to measure the code).';
}

export async function loadScenario(context: ScenarioContext): Promise<ScenarioResult> {
  const { options, prefix, random, dialect } = context;
  const mix = parseMix(options.mix);
  const byCount = options.count > 0;
  const anomalies = new AnomalyLog();
  const latencies: number[] = [];
  const answeredAt: number[] = []; // ms from the start, one per reply (for the throughput over time)
  const clients = await openClients(options.loadClients, context.host, context.port, dialect);
  const window = await raceWindow(clients[0]!.connection);
  const monitor = context.server?.child.pid !== undefined && ProcessTreeMonitor.available()
    ? new ProcessTreeMonitor(context.server.child.pid) : null;

  let issued = 0;
  let counter = 0;
  const started = performance.now();
  const deadline = started + options.duration * 1000;
  const more = () => (byCount ? issued < options.count : performance.now() < deadline);
  const ticker = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    const goal = byCount ? `${thousands(latencies.length)}/${thousands(options.count)} ops` : `${elapsed.toFixed(0)}/${options.duration} s, ${thousands(latencies.length)} ops`;
    context.progress(`load: ${goal}, ${thousands(latencies.length / elapsed)} ops/s`);
  }, 1000);
  monitor?.start();

  await Promise.all(clients.map(async (client) => {
    while (more()) {
      const size = byCount ? Math.min(options.pipeline, options.count - issued) : options.pipeline;
      issued += size;
      const ops: Operation[] = [];
      for (let i = 0; i < size; i++) {
        const kind = random.pick(mix);
        const writes = kind === 'create' || kind === 'update';
        ops.push({ kind, key: `${prefix}load:${random.int(1, options.keySpace)}`, ...(writes ? { value: `v${++counter}` } : {}) });
      }
      const sentAt = performance.now();
      try {
        const replies = await client.connection.pipeline(ops.map((op) => dialect.request(op)));
        const now = performance.now();
        const latency = now - sentAt;
        replies.forEach((reply, i) => {
          latencies.push(latency);
          answeredAt.push(now - started);
          const outcome = dialect.outcome(ops[i]!, reply);
          if (outcome.kind === 'error') {
            anomalies.add('error reply', 'a reply that no correct server gives to this command.',
              `client ${client.id}: ${dialect.describe(ops[i]!)} -> ${describeOutcome(outcome)}`);
          }
        });
      } catch (caught) {
        anomalies.add('connection lost', 'the server closed a connection or stopped answering in the middle of the load.',
          `client ${client.id}: ${(caught as Error).message}`);
        return;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(ticker);
  context.progress('');
  const processes: ProcessFigures | null = monitor?.stop() ?? null;
  const perInterval = throughput(answeredAt, 100, seconds * 1000);
  const spark = sparkline(perInterval, 60);
  await closeClients(clients);

  const summary = summarize(latencies);
  const ms = (value: number) => value.toFixed(3);
  const list = anomalies.list();
  return {
    name: 'load',
    verdict: list.length === 0 ? 'SUCCESS' : 'FAIL',
    description: `${options.loadClients} clients, pipeline ${options.pipeline}, ` +
      `${byCount ? `${thousands(options.count)} operations` : `${options.duration} s`}, mix ${options.mix}, ${options.keySpace} keys`,
    figures: {
      operations: latencies.length,
      seconds: seconds.toFixed(2),
      'ops/s': Math.round(latencies.length / seconds),
      ...(window === 'none' ? {} : { 'server race window': window }), // steps 02-03 only
      'p50 ms': ms(summary.p50),
      'p90 ms': ms(summary.p90),
      'p99 ms': ms(summary.p99),
      'p99.9 ms': ms(summary.p999),
      'max ms': ms(summary.max),
      'server CPU s': processes ? processes.cpuSeconds.toFixed(2) : 'n/a',
      'server CPU % of one core': processes ? Math.round((100 * processes.cpuSeconds) / seconds) : 'n/a',
      'server peak RSS MB': processes ? (processes.peakRssBytes / 1048576).toFixed(1) : 'n/a',
      'server processes': processes ? processes.processes : 'n/a',
    },
    details: [
      ...[raceWindowNote('the server', window)].filter((note) => note !== null),
      'latency histogram:',
      ...histogram(latencies),
      `throughput, ops/s per ${spark.intervalMs / 1000} s (${thousands(spark.min)} to ${thousands(spark.max)}, ▁ = 0):`,
      `   ${spark.line}`,
      ...(processes ? [] : ['server CPU and memory: not measured (only when the tester starts the server, with --step or --server)']),
    ],
    anomalies: list,
    pictures: {
      latency: latencyHistogram(latencies, BUCKET_LIMITS_MS),
      throughput: perInterval,
      ...(monitor ? { processes: monitor.series() } : {}),
    },
  };
}
