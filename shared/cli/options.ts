import { parseArgs } from 'node:util';

// Command-line options for the servers, the client and the tester, declared
// once with their defaults and help. Each option `fooBar` is read from
// `--foo-bar VALUE`, else from the environment variable `KV_FOO_BAR`, else
// from its default; `--help` prints them all.

export type OptionSpec =
  | { type: 'number'; default: number; help: string; min?: number; max?: number }
  | { type: 'string'; default: string; help: string; choices?: readonly string[] }
  | { type: 'boolean'; default: boolean; help: string };

export type OptionValues<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: S[K]['default'];
};

export interface ParsedOptions<S extends Record<string, OptionSpec>> {
  values: OptionValues<S>;
  /** Arguments that are not options (a command for the client, for example). */
  positionals: string[];
}

/** Options every server has. */
export const SERVER_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1', help: 'address to listen on' },
  port: { type: 'number', default: 65432, min: 0, max: 65535, help: 'TCP port; 0 picks a free one' },
  workMs: {
    type: 'number', default: 0, min: 0, max: 10_000,
    help: 'CPU time every command burns, in ms (a simulated heavy command)',
  },
  quiet: { type: 'boolean', default: false, help: 'no log line per connection' },
} as const satisfies Record<string, OptionSpec>;

/** The usage line of a step's server: `stepUsage('03-lock')`. The npm way first, the direct one after. */
export function stepUsage(stepFolder: string): string {
  return `npm run step -- ${stepFolder.slice(0, 2)} [options]   (or: npx tsx steps/${stepFolder}/server.ts [options])`;
}

export function parseOptions<S extends Record<string, OptionSpec>>(
  specs: S,
  usage: string,
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): ParsedOptions<S> {
  const parsed = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: Object.fromEntries([
      ['help', { type: 'boolean' as const, short: 'h' }],
      ...Object.entries(specs).map(([name, spec]) => [
        flagName(name),
        { type: spec.type === 'boolean' ? ('boolean' as const) : ('string' as const) },
      ]),
    ]),
  });
  if (parsed.values.help) {
    console.log(helpText(specs, usage));
    process.exit(0);
  }
  const known = new Set(['help', ...Object.keys(specs).map(flagName)]);
  for (const name of Object.keys(parsed.values)) {
    if (!known.has(name)) fail(`unknown option --${name}`, specs, usage);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = parsed.values[flagName(name)] ?? env[envName(name)];
    values[name] = raw === undefined ? spec.default : convert(name, spec, raw, specs, usage);
  }
  return { values: values as OptionValues<S>, positionals: parsed.positionals };
}

/** One line for the start-up log: `port=0 workMs=0 ...`. */
export function describeOptions(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

function convert(
  name: string,
  spec: OptionSpec,
  raw: string | boolean,
  specs: Record<string, OptionSpec>,
  usage: string,
): unknown {
  if (spec.type === 'boolean') return raw === true || raw === 'true' || raw === '1';
  if (typeof raw !== 'string') fail(`--${flagName(name)} needs a value`, specs, usage);
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      fail(`--${flagName(name)} must be one of: ${spec.choices.join(', ')}`, specs, usage);
    }
    return raw;
  }
  const number = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(number)) fail(`--${flagName(name)} must be a number, got '${raw}'`, specs, usage);
  if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) {
    fail(`--${flagName(name)} must be between ${spec.min ?? '-inf'} and ${spec.max ?? 'inf'}`, specs, usage);
  }
  return number;
}

function fail(message: string, specs: Record<string, OptionSpec>, usage: string): never {
  console.error(`error: ${message}\n\n${helpText(specs, usage)}`);
  process.exit(2);
}

function helpText(specs: Record<string, OptionSpec>, usage: string): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `--${flagName(name)}${spec.type === 'boolean' ? '' : ' ' + spec.type.toUpperCase()}`;
    const choices = spec.type === 'string' && spec.choices ? ` (${spec.choices.join('|')})` : '';
    return `  ${flag.padEnd(26)} ${spec.help}${choices} [default: ${spec.default}; env ${envName(name)}]`;
  });
  return `usage: ${usage}\n\noptions:\n${rows.join('\n')}\n  ${'--help'.padEnd(26)} this text`;
}

const flagName = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (name: string) => `KV_${flagName(name).replace(/-/g, '_').toUpperCase()}`;
