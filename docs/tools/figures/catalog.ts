// The figures of docs/figures.md: for each one, the commands that measure it,
// how to read its figures from their output, and what prose may quote.
//
// A figure's commands are programs of this repository, run as a reader would
// run them (`command`, shown on the page) and, to save npm's and npx's start,
// as `node --import tsx FILE ARGS` (`program`), which is what those scripts run.
// Each run's output is read by `read`, which returns the figures it found and
// the lines it found them in; `summarize` turns every repeat's figures into
// the values the page shows.

import {
  describeRuns, median, range, twoDigits, type FigureValue,
} from './page.ts';

/** What `read` found in one run's output. */
export interface Reading {
  figures: Record<string, number>;
  lines: string[];
}

export interface Variant {
  label: string;
  /** As a reader types it, from the repository root. */
  command: string;
  /** What runs: `node --import tsx` and these arguments, in this environment. */
  program: string[];
  env?: Record<string, string>;
  read(output: string): Reading;
}

export interface FigureDefinition {
  name: string;
  title: string;
  about: string;
  /** How many times each variant runs, the variants in turn: A, B, A, B... */
  repeats: number;
  /** Longest one run of a variant may take before it is stopped and the figure fails. */
  timeoutMs: number;
  variants: Variant[];
  /** runs[variant label] = the figures of each repeat, in order. */
  summarize(runs: Record<string, Array<Record<string, number>>>): FigureValue[];
}

/** The first line of `output` that `pattern` matches, its groups read as numbers under `names`. */
function grab(output: string, pattern: RegExp, names: string[]): Reading {
  const lines = output.split('\n');
  const line = lines.find((l) => pattern.test(l));
  const match = line === undefined ? null : pattern.exec(line);
  if (!match) throw new Error(`no line matching ${pattern} in the output:\n${output}`);
  return {
    figures: Object.fromEntries(names.map((name, i) => [name, Number(match[i + 1]!.replace(/,/g, ''))])),
    lines: [line!.trimEnd()],
  };
}

/** Several `grab`s of one output, their figures and lines together. */
function grabAll(output: string, parts: Array<[RegExp, string[]]>): Reading {
  const readings = parts.map(([pattern, names]) => grab(output, pattern, names));
  return {
    figures: Object.assign({}, ...readings.map((r) => r.figures)) as Record<string, number>,
    lines: readings.flatMap((r) => r.lines),
  };
}

const of = (runs: Record<string, Array<Record<string, number>>>, variant: string, figure: string) =>
  runs[variant]!.map((r) => r[figure]!);

/** Per repeat, variant `a`'s figure over variant `b`'s (runs taken in turn, so under the same load). */
const ratios = (runs: Record<string, Array<Record<string, number>>>, a: string, b: string, figure: string) =>
  of(runs, a, figure).map((x, i) => x / of(runs, b, figure)[i]!);

const rate = (id: string, label: string, xs: number[], unit = ''): FigureValue =>
  ({ id, label, quote: `${twoDigits(median(xs))}${unit}`, measured: describeRuns(xs) });

const ratio = (id: string, label: string, xs: number[]): FigureValue =>
  ({ id, label, quote: twoDigits(median(xs)), measured: describeRuns(xs.map((x) => Number(x.toFixed(2)))) });

const PERSISTER = 'steps/05-workers/bench/persister.ts';
const persisterLine = /: (\d+) writes\/s, (\d+) IPC messages/;
const persister = (label: string, args: string[]): Variant => ({
  label,
  command: ['npx tsx', PERSISTER, ...args].join(' '),
  program: [PERSISTER, ...args],
  read: (output) => grab(output, persisterLine, ['writes/s', 'messages']),
});

const TESTER = 'tester/cli.ts';
const tester = (label: string, args: string[], env: Record<string, string> = {}) => ({
  label,
  command: [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'npm run tester --', ...args].join(' '),
  program: [TESTER, ...args],
  env,
});
/** A figure line of the tester's report: `   name     value`. */
const testerLine = (name: string) => new RegExp(`^\\s+${name.replace(/[()/%]/g, '\\$&')}\\s+([\\d.]+)\\s*$`);

const contention = (label: string, args: string[], env: Record<string, string> = {}): Variant => ({
  ...tester(label, ['--step', '02', '--scenario', 'contention', ...args], env),
  read: (output) => grabAll(output, [
    [testerLine('rounds'), ['rounds']],
    [testerLine('rounds with a double create'), ['double']],
    [testerLine('rounds with lost INCRs'), ['lossy']],
    [testerLine('INCRs lost (acknowledged, not counted)'), ['lost']],
  ]),
});

export const CATALOG: FigureDefinition[] = [
  {
    name: 'persister-path',
    title: 'The persistence path alone',
    about: 'Writes per second from `submit()` to a worker process\'s log, without network or ' +
      'threads (batches of up to 1,000 tasks per IPC message; `--durable`: one fsync per batch). ' +
      'It is far faster than any server step in front of it.',
    repeats: 3,
    timeoutMs: 60_000,
    variants: [
      persister('1 worker process', []),
      persister('2 worker processes', ['--workers', '2']),
      persister('1 worker process, durable', ['--durable', '--writes', '50000']),
    ],
    summarize: (runs) => [
      rate('1-worker', '1 worker, writes/s', of(runs, '1 worker process', 'writes/s')),
      rate('2-workers', '2 workers, writes/s', of(runs, '2 worker processes', 'writes/s')),
      ratio('2-over-1', '2 workers over 1 (per repeat)', ratios(runs, '2 worker processes', '1 worker process', 'writes/s')),
      rate('durable', '1 worker, durable, writes/s', of(runs, '1 worker process, durable', 'writes/s')),
    ],
  },
  {
    name: 'persister-workers',
    title: '1 worker process against 2, on CPU-heavy tasks',
    about: 'The persistence path alone, each task costing 2 ms of CPU in its worker process: ' +
      'the ceiling is 500 writes/s per worker. The speedup is the 2 workers\' rate over the ' +
      '1 worker\'s measured just before it; on a busy machine the second worker finds no free core.',
    repeats: 3,
    timeoutMs: 60_000,
    variants: [
      persister('1 worker process', ['--task-cpu-ms', '2', '--writes', '2000', '--workers', '1', '--capacity', '100']),
      persister('2 worker processes', ['--task-cpu-ms', '2', '--writes', '2000', '--workers', '2', '--capacity', '100']),
    ],
    summarize: (runs) => {
      const speedup = ratios(runs, '2 worker processes', '1 worker process', 'writes/s');
      return [
        rate('1-worker', '1 worker, writes/s', of(runs, '1 worker process', 'writes/s')),
        rate('2-workers', '2 workers, writes/s', of(runs, '2 worker processes', 'writes/s')),
        ratio('speedup', 'speedup of the 2nd worker (per repeat)', speedup),
      ];
    },
  },
  {
    name: 'node-load-client',
    title: 'What the tester, a Node load client, reaches against step 01',
    about: 'The tester\'s `load` scenario (10 clients, one request in flight each) against the ' +
      'one-thread server of step 01, which shares the two cores with it. Read the ops/s together ' +
      'with the server\'s CPU: well under 100% of a core, the client is the limit; near it, both are.',
    repeats: 3,
    timeoutMs: 60_000,
    variants: [{
      ...tester('step 01, load, 3 s', ['--step', '01', '--scenario', 'load', '--duration', '3']),
      read: (output) => grabAll(output, [
        [testerLine('ops/s'), ['ops/s']],
        [testerLine('server CPU % of one core'), ['cpu%']],
      ]),
    }],
    summarize: (runs) => [
      rate('ops', 'ops/s', of(runs, 'step 01, load, 3 s', 'ops/s')),
      rate('cpu', 'server CPU, % of one core', of(runs, 'step 01, load, 3 s', 'cpu%'), '%'),
    ],
  },
  {
    name: 'race-window',
    title: 'Step 02\'s races with the race window and without it',
    about: 'The tester\'s `contention` scenario against step 02 (no lock): with the default 1 ms ' +
      'window between check and act, 20 rounds; with no window (`KV_RACE_WINDOW_MS=0`), 50 rounds. ' +
      'Each round has 8 clients POST one fresh key and INCR one counter 5 times each (40 INCRs). ' +
      'The quotes are the lowest and highest of the runs.',
    repeats: 3,
    timeoutMs: 90_000,
    variants: [
      contention('window 1 ms (default), 20 rounds', []),
      contention('window 0, 50 rounds', ['--rounds', '50'], { KV_RACE_WINDOW_MS: '0' }),
    ],
    summarize: (runs) => {
      const values: FigureValue[] = [];
      const windows = [['window 1 ms (default), 20 rounds', 'window 1 ms', 'w1'], ['window 0, 50 rounds', 'window 0', 'w0']] as const;
      for (const [variant, short, id] of windows) {
        const rounds = of(runs, variant, 'rounds')[0]!;
        const row = (label: string, figure: string) => {
          const xs = of(runs, variant, figure);
          values.push({ id: `${id}-${figure}`, label: `${short}: ${label}`, quote: range(xs), measured: `runs: ${xs.join(', ')}` });
        };
        row(`rounds with a double create, of ${rounds}`, 'double');
        row(`rounds with lost INCRs, of ${rounds}`, 'lossy');
        row(`INCRs lost, of ${(rounds * 40).toLocaleString('en-US')}`, 'lost');
      }
      return values;
    },
  },
  {
    name: 'thread-cost',
    title: 'What a connection thread costs (steps 02-05)',
    about: 'Step 02, 50 connections opened one after another: the time from connect to the first ' +
      'PONG (the connection\'s Worker must start and load the course\'s code, from a bundle, first) ' +
      'and the server\'s resident memory per connection. Steps 03-05 start the same thread.',
    repeats: 3,
    timeoutMs: 90_000,
    variants: [{
      label: 'step 02, 50 connections',
      command: 'npx tsx tester/bench/connection-threads.ts --step 02 --connections 50',
      program: ['tester/bench/connection-threads.ts', '--step', '02', '--connections', '50'],
      read: (output) => grabAll(output, [
        [/connect -> first PONG\s+median ([\d.]+) ms/, ['ms']],
        [/: ([\d.]+) MB per connection/, ['mb']],
      ]),
    }],
    summarize: (runs) => {
      const mb = of(runs, 'step 02, 50 connections', 'mb');
      return [
        rate('start', 'connect to first reply, median', of(runs, 'step 02, 50 connections', 'ms'), ' ms'),
        rate('memory', 'memory per connection', mb, ' MB'),
        { id: 'memory-200', label: '200 connections, memory on top of the server\'s', quote: `${twoDigits(200 * median(mb) / 1024)} GB`,
          measured: `200 x ${median(mb)} MB` },
      ];
    },
  },
  {
    name: 'bare-worker',
    title: 'What a bare Worker costs',
    about: 'A `worker_threads` Worker running a one-line program, before any code of ours: the ' +
      'floor under the connection thread\'s cost ([thread-cost](#thread-cost)).',
    repeats: 3,
    timeoutMs: 60_000,
    variants: [{
      label: '20 bare Workers',
      command: 'npx tsx tester/bench/worker-cost.ts --threads 20',
      program: ['tester/bench/worker-cost.ts', '--threads', '20'],
      read: (output) => grabAll(output, [
        [/first message\s+median ([\d.]+) ms/, ['ms']],
        [/: ([\d.]+) MB per thread/, ['mb']],
      ]),
    }],
    summarize: (runs) => [
      rate('start', 'start to first message, median', of(runs, '20 bare Workers', 'ms'), ' ms'),
      rate('memory', 'memory per thread', of(runs, '20 bare Workers', 'mb'), ' MB'),
    ],
  },
];
