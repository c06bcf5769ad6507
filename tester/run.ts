import { launchServer, launchStep, type RunningServer } from './harness/launch.ts';
import { findStep } from '../shared/cli/steps.ts';
import { dialectNamed } from './dialect.ts';
import { processTree } from './proc-stats.ts';
import { processGone } from '../shared/persistence/process-gone.ts';
import { Random } from './random.ts';
import { combine, exitCodeOf, type ScenarioResult, type TesterReport } from './report.ts';
import { FAULT_SCENARIOS, RMW_SCENARIOS, SCENARIOS, type ScenarioContext, type ScenarioName, type TesterOptions } from './options.ts';
import { seedScenario } from './scenarios/seed.ts';
import { contentionScenario } from './scenarios/contention.ts';
import { linearizabilityScenario } from './scenarios/linearizability.ts';
import { loadScenario } from './scenarios/load.ts';
import { readModifyWriteScenario } from './scenarios/read-modify-write.ts';
import { replicationNodes, replicationScenario } from './scenarios/replication.ts';

// Runs the chosen scenarios against one server and returns the report. When
// asked to start the server (--step, --server), it also stops it, and makes
// sure no process of it is left behind.

const RUN: Record<ScenarioName, (context: ScenarioContext) => Promise<ScenarioResult>> = {
  seed: seedScenario,
  contention: contentionScenario,
  linearizability: linearizabilityScenario,
  load: loadScenario,
  'get-then-set': readModifyWriteScenario('get-then-set'),
  watch: readModifyWriteScenario('watch'),
  'client-lock': readModifyWriteScenario('client-lock'),
  'server-incr': readModifyWriteScenario('server-incr'),
  replication: replicationScenario,
};

export interface RunHooks {
  /** A live progress line; '' clears it. */
  progress?(line: string): void;
  /** Called once the target is known (and started, if the tester starts it). */
  onStart?(report: TesterReport): void;
  /** Called with each scenario's result as soon as it is known. */
  onScenario?(result: ScenarioResult): void;
}

export async function runTester(options: TesterOptions, hooks: RunHooks = {}): Promise<TesterReport> {
  const randomSeed = options.randomSeed || Math.floor(Math.random() * 1e9) + 1;
  const report: TesterReport = {
    target: '', dialect: options.dialect, randomSeed, scenarios: [], verdict: 'ERROR', exitCode: 2,
  };
  let server: RunningServer | null = null;
  try {
    const names = parseScenarios(options.scenario);
    const dialect = dialectNamed(options.dialect);
    const serverArgs = options.serverArgs.split(' ').filter((arg) => arg !== '');
    if (names.every((name) => (FAULT_SCENARIOS as readonly string[]).includes(name))) {
      // The replication scenario starts (and kills) servers of its own.
      report.target = `${replicationNodes(options).label}: a primary and a replica, started by the scenario`;
    } else if (options.step !== '') {
      const step = findStep(options.step);
      server = await launchStep(options.step, { args: serverArgs });
      report.target = `step ${step.name} at ${server.host}:${server.port} (started by the tester)`;
    } else if (options.server !== '') {
      server = await launchServer(options.server, { args: serverArgs });
      report.target = `${options.server} at ${server.host}:${server.port} (started by the tester)`;
    } else {
      report.target = `${options.host}:${options.port}`;
    }
    hooks.onStart?.(report);
    const context: ScenarioContext = {
      host: server?.host ?? options.host,
      port: server?.port ?? options.port,
      dialect,
      // A prefix no other run shares: the tester may run against a server that holds other data.
      prefix: `t${(Date.now() % 2 ** 31).toString(36)}:`,
      random: new Random(randomSeed),
      options,
      server,
      progress: hooks.progress ?? (() => {}),
    };
    for (const name of names) {
      const result = await RUN[name](context);
      report.scenarios.push(result);
      hooks.onScenario?.(result);
    }
    report.verdict = combine(report.scenarios.map((s) => s.verdict));
  } catch (caught) {
    report.verdict = 'ERROR';
    report.error = (caught as Error).message;
  } finally {
    hooks.progress?.('');
    if (server) {
      const leftovers = await stopAll(server);
      if (leftovers.length > 0) {
        report.error = `${report.error ? `${report.error}; ` : ''}the server left processes ${leftovers.join(', ')} running after it stopped; the tester killed them`;
      }
    }
  }
  report.exitCode = exitCodeOf(report.verdict);
  return report;
}

/** Stops the server, then kills any of its descendants still alive (returned, so it can be reported). */
async function stopAll(server: RunningServer): Promise<number[]> {
  const tree = server.child.pid === undefined ? [] : processTree(server.child.pid);
  await server.stop();
  const leftovers = tree.filter((pid) => pid !== server.child.pid && !processGone(pid));
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return leftovers;
}

export function parseScenarios(text: string): ScenarioName[] {
  if (text === 'all') return [...SCENARIOS];
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    const known: readonly string[] = [...SCENARIOS, ...RMW_SCENARIOS, ...FAULT_SCENARIOS];
    if (!known.includes(name)) {
      throw new Error(`unknown scenario '${name}'; the scenarios are: all, ${known.join(', ')}`);
    }
  }
  return names as ScenarioName[];
}
