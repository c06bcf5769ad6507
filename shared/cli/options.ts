import { parseArgs } from 'node:util';

// Command-line options for the servers, the client and the tester, declared
// once with their defaults and help. Each option `fooBar` is read from
// `--foo-bar VALUE`, else from the environment variable `KV_FOO_BAR`, else
// from its default; `--help` prints them all.

export type OptionSpec =
  | { type: 'number'; default: number; help: string; min?: number; max?: number }
  | { type: 'string'; default: string; help: string; choices?: readonly string[] }
  | { type: 'boolean'; default: boolean; help: string }
  /** A size in bytes, written as Redis writes them: 1000, 64kb, 100mb, 2gb (k, m, g: powers of 1000). */
  | { type: 'bytes'; default: number; help: string; min?: number; max?: number };

/**
 * The type of one option's value, derived from its declaration: a number
 * option gives `number` (a bytes option too), a boolean `boolean`, a string with `choices` the
 * union of those choices (declared `as const`), any other string `string`.
 * So `lock: { type: 'string', default: 'mutex', choices: ['mutex', 'rw'] }`
 * reads as `'mutex' | 'rw'`, and no step needs a cast.
 */
export type OptionValue<S extends OptionSpec> = S extends { type: 'number' | 'bytes' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : S extends { choices: readonly (infer Choice extends string)[] }
      ? Choice
      : string;

export type OptionValues<S extends Record<string, OptionSpec>> = {
  [K in keyof S]: OptionValue<S[K]>;
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

export function parseOptions<const S extends Record<string, OptionSpec>>(
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
  const number = spec.type === 'bytes' ? parseByteSize(raw) : Number(raw);
  if (raw.trim() === '' || !Number.isFinite(number)) {
    fail(`--${flagName(name)} must be a ${spec.type === 'bytes' ? 'size such as 1000, 64kb, 100mb or 2gb' : 'number'}, got '${raw}'`, specs, usage);
  }
  if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) {
    fail(`--${flagName(name)} must be between ${spec.min ?? '-inf'} and ${spec.max ?? 'inf'}`, specs, usage);
  }
  return number;
}

/**
 * A size as Redis's configuration writes it: a number of bytes, with an
 * optional unit (b; k, m, g = 1000, 1000^2, 1000^3; kb, mb, gb = 1024,
 * 1024^2, 1024^3), any case. NaN when it is not one.
 */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+)\s*(b|k|kb|m|mb|g|gb)?\s*$/i.exec(text);
  if (match === null) return Number.NaN;
  const unit = (match[2] ?? 'b').toLowerCase();
  const scale: Record<string, number> = { b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(match[1]) * scale[unit]!;
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
