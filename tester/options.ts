import type { OptionSpec, OptionValues } from '../shared/cli/options.ts';
import type { RunningServer } from './harness/launch.ts';
import type { Dialect } from './dialect.ts';
import type { Random } from './random.ts';

// The tester's options (each also read from KV_<NAME>, see shared/cli/options.ts),
// and what every scenario is given to run.

export const SCENARIOS = ['seed', 'contention', 'linearizability', 'load'] as const;
/**
 * Contention on a read-modify-write done by the clients (scenarios/read-modify-write.ts).
 * Asked for by name only, not part of `all`: get-then-set FAILS on every
 * server by design, it is the lesson.
 */
export const RMW_SCENARIOS = ['get-then-set', 'watch', 'client-lock', 'server-incr'] as const;
/**
 * Replication with faults (scenarios/replication.ts): it starts its own
 * primary and replica (--step 06, or redis-server with --dialect redis),
 * kills and stops them. Asked for by name only; it FAILS by design.
 */
export const FAULT_SCENARIOS = ['replication'] as const;
export type ScenarioName = (typeof SCENARIOS)[number] | (typeof RMW_SCENARIOS)[number] | (typeof FAULT_SCENARIOS)[number];

export const TESTER_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1', help: 'server to test (with --port)' },
  port: { type: 'number', default: 65432, min: 1, max: 65535, help: 'its port' },
  step: { type: 'string', default: '', help: 'start this step (01..06) on a free port instead, and stop it afterwards' },
  server: { type: 'string', default: '', help: 'start this server file instead (a fixture, say)' },
  serverArgs: { type: 'string', default: '', help: 'extra arguments for the started server, space-separated' },
  scenario: { type: 'string', default: 'all', help: `what to run: all (${SCENARIOS.join(', ')}), or a comma-separated list of those and ${[...RMW_SCENARIOS, ...FAULT_SCENARIOS].join(', ')}` },
  dialect: { type: 'string', default: 'native', choices: ['native', 'redis'], help: 'command names: ours, or standard Redis' },
  json: { type: 'boolean', default: false, help: 'print the report as JSON' },
  html: { type: 'string', default: 'reports/', help: 'the report page: FILE.html, a folder (a new page per run), or off' },
  randomSeed: { type: 'number', default: 0, min: 0, help: 'seed for the random choices; 0 picks one (printed)' },
  seedClients: { type: 'number', default: 20, min: 1, max: 1000, help: 'seed: clients' },
  seedOps: { type: 'number', default: 50, min: 1, help: 'seed: operations per client' },
  thinkMs: { type: 'string', default: '10-50', help: 'seed: think time between operations, MIN-MAX ms' },
  contentionClients: { type: 'number', default: 8, min: 2, max: 1000, help: 'contention and the read-modify-write scenarios: clients' },
  rounds: { type: 'number', default: 20, min: 1, help: 'contention and the read-modify-write scenarios: rounds (each on fresh keys)' },
  incrs: { type: 'number', default: 5, min: 1, help: 'contention: INCRs per client per round (the others: increments)' },
  linClients: { type: 'number', default: 10, min: 1, max: 1000, help: 'linearizability: clients' },
  linOps: { type: 'number', default: 100, min: 1, help: 'linearizability: operations per client' },
  linKeys: { type: 'number', default: 5, min: 1, help: 'linearizability: keys' },
  timeLimit: { type: 'number', default: 20, min: 0, help: 'linearizability: seconds the checker may search before answering UNKNOWN' },
  loadClients: { type: 'number', default: 10, min: 1, max: 1000, help: 'load: clients' },
  duration: { type: 'number', default: 5, min: 0, help: 'load: seconds to run' },
  count: { type: 'number', default: 0, min: 0, help: 'load: operations to send instead of a duration (0: use --duration)' },
  pipeline: { type: 'number', default: 1, min: 1, max: 10_000, help: 'load: commands each client sends before waiting for replies' },
  mix: { type: 'string', default: 'get=50,put=25,post=15,delete=10', help: 'load: command mix, NAME=WEIGHT of get, put, post, delete, incr' },
  keySpace: { type: 'number', default: 1000, min: 1, help: 'load: how many different keys' },
} as const satisfies Record<string, OptionSpec>;

export type TesterOptions = OptionValues<typeof TESTER_OPTIONS>;

/**
 * `npm run compare -- STEP STEP...`'s options: the tester's, less those that
 * choose the server (the steps do) and with one scenario by default, contention.
 */
export const COMPARE_OPTIONS = (() => {
  const { host: _host, port: _port, step: _step, server: _server, ...rest } = TESTER_OPTIONS;
  return {
    ...rest,
    serverArgs: { ...rest.serverArgs, help: 'extra arguments for every step\'s server, space-separated' },
    scenario: { ...rest.scenario, default: 'contention' },
  } as const satisfies Record<string, OptionSpec>;
})();

export const TESTER_DEFAULTS = Object.fromEntries(
  Object.entries(TESTER_OPTIONS).map(([name, spec]) => [name, spec.default]),
) as TesterOptions;

export interface ScenarioContext {
  host: string;
  port: number;
  dialect: Dialect;
  /** Every key this run uses starts with it, so runs never see each other's data. */
  prefix: string;
  random: Random;
  options: TesterOptions;
  /** The server process, when the tester started it (for CPU and memory figures). */
  server: RunningServer | null;
  /** Shows a live progress line (on a terminal), or clears it with ''. */
  progress(line: string): void;
}
