// `npm run figures`: measures the figures the course quotes in prose, and
// writes docs/figures.json and docs/figures.md (see page.ts for how prose
// quotes them and how `npm test` keeps the quotes right).
//
//   npm run figures                       every figure (a few minutes)
//   npm run figures -- --only thread-cost  one figure, the others kept
//   npm run figures -- --list              the figures' names
//   npm run figures -- --render            rewrite the page from the JSON only
//
// Each figure's variants run in turn, A, B, A, B..., so that figures compared
// with each other share the machine's load. Each run is bounded in time (the
// figure's `timeoutMs`): one that overruns is stopped and the figure fails,
// with nothing written for it; Ctrl+C stops the run in progress too.
//
// After measuring, every link in the prose that quoted a value's old quote is
// rewritten to quote the new one (unless --keep-prose), and listed: what the
// sentence says about the figure may have to change with it. Exit status 0,
// or 1 when a figure failed or a quote in the prose still differs from the page.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseOptions } from '../../../shared/cli/options.ts';
import { ROOT } from '../../../shared/cli/steps.ts';
import { stepLine } from '../../../tester/progress.ts';
import { CATALOG, type FigureDefinition, type Variant } from './catalog.ts';
import {
  DATA_FILE, PAGE_FILE, checkFigureQuotes, loadFigures, quotingFiles, renderPage, serializeFigures, updateQuotesIn,
  type FigureRecord, type FiguresData, type QuoteChange,
} from './page.ts';

const { values: options } = parseOptions({
  only: { type: 'string', default: '', help: 'measure this figure only (comma-separated names)' },
  list: { type: 'boolean', default: false, help: 'list the figures and exit' },
  render: { type: 'boolean', default: false, help: 'measure nothing: rewrite the page from the JSON' },
  keepProse: { type: 'boolean', default: false, help: 'do not rewrite the quotes in the prose' },
} as const, 'npm run figures -- [options]');

if (options.list) {
  for (const f of CATALOG) console.log(`${f.name.padEnd(20)} ${f.title}`);
  process.exit(0);
}

const only: string = options.only;
const wanted = only === '' ? CATALOG.map((f) => f.name) : only.split(',').map((s) => s.trim());
const unknown = wanted.filter((name) => !CATALOG.some((f) => f.name === name));
if (unknown.length > 0) {
  console.error(`unknown figure ${unknown.join(', ')}; the figures are: ${CATALOG.map((f) => f.name).join(', ')}`);
  process.exit(2);
}

/** The run in progress (a process group of its own): what Ctrl+C must stop too. */
let running: number | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (running !== null) killGroup(running, 'SIGTERM');
    console.error(`\n${signal}: stopped; figures measured before it are written`);
    process.exit(130);
  });
}

// The progress line, on stderr (tester/progress.ts): the figure and run in
// progress, its seconds, and the last progress line the run printed itself.
const line = stepLine();

const data = loadFigures();
const before = structuredClone(data);
let failed = 0;
if (!options.render) {
  const started = Date.now();
  for (const definition of CATALOG.filter((f) => wanted.includes(f.name))) {
    try {
      const record = await measure(definition);
      data.figures = upsert(data, record);
      save(data); // after each figure: a failure later keeps what was measured
      console.log(`${definition.name}: ${record.values.map((v) => `${v.label} ${v.quote}`).join('; ')}`);
    } catch (error) {
      failed++;
      console.error(`${definition.name}: FAILED, not written: ${(error as Error).message}`);
    }
  }
  console.log(`measured in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
save(data);
console.log(`wrote ${DATA_FILE} and ${PAGE_FILE}`);
if (!options.keepProse) updateProse(before, data);
const { problems } = checkFigureQuotes();
for (const p of problems) console.log(`  ${p.file}:${p.line}: ${p.message}`);
if (problems.length > 0) console.log(`${problems.length} quotes in the prose differ from the page: fix them by hand`);
process.exit(failed > 0 || problems.length > 0 ? 1 : 0);

/** Rewrites the prose's quotes of every value whose quote changed, and lists them. */
function updateProse(old: FiguresData, now: FiguresData): void {
  const changes: QuoteChange[] = [];
  for (const file of quotingFiles()) {
    const full = path.join(ROOT, file);
    const text = readFileSync(full, 'utf8');
    const updated = updateQuotesIn(file, text, old, now);
    if (updated.changes.length === 0) continue;
    writeFileSync(full, updated.text);
    changes.push(...updated.changes);
  }
  if (changes.length === 0) return;
  console.log(`rewrote ${changes.length} quotes in the prose; read these sentences again:`);
  for (const c of changes) console.log(`  ${c.file}:${c.line}: "${c.from}" -> "${c.to}"`);
}

async function measure(definition: FigureDefinition): Promise<FigureRecord> {
  const loadBefore = loadavg()[0]!;
  const started = Date.now();
  const runs: Record<string, Array<Record<string, number>>> = {};
  let sample: string[] = [];
  for (let repeat = 1; repeat <= definition.repeats; repeat++) {
    const lines: string[] = [];
    for (const variant of definition.variants) {
      const what = `${definition.name}: ${variant.label}, run ${repeat} of ${definition.repeats}`;
      let said = '';
      line.step(what, () => said);
      const output = await run(variant, definition.timeoutMs, (text) => { said = text; }).finally(() => line.clear());
      const reading = variant.read(output);
      console.log(`${what}: ${Object.entries(reading.figures).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      (runs[variant.label] ??= []).push(reading.figures);
      lines.push(`$ ${variant.command}`, ...reading.lines);
    }
    sample = lines;
  }
  return {
    name: definition.name,
    title: definition.title,
    about: definition.about,
    repeats: definition.repeats,
    commands: definition.variants.map((v) => ({ label: v.label, command: v.command })),
    values: definition.summarize(runs),
    sample,
    date: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      node: process.version,
      loadBefore,
      loadAfter: loadavg()[0]!,
    },
  };
}

/**
 * Runs one variant to its end, or stops it (its whole process group) after
 * `timeoutMs`. `progress` gets the last line the run wrote on its stderr (its
 * own progress line, printed every 5 s since its stderr is not a terminal).
 */
function run(variant: Variant, timeoutMs: number, progress: (line: string) => void = () => {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...variant.program], {
      cwd: ROOT, env: { ...process.env, ...variant.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    running = child.pid ?? null;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const last = chunk.trimEnd().split('\n').at(-1)?.trim();
      if (last) progress(last.slice(0, 60));
    });
    const timer = setTimeout(() => {
      killGroup(child.pid!, 'SIGTERM');
      setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 5_000).unref();
      reject(new Error(`\`${variant.command}\` took more than ${timeoutMs / 1000} s; stopped`));
    }, timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (code) => {
      clearTimeout(timer);
      running = null;
      // The tester exits 1 on FAIL, which is what step 02's races must do: its report is the output.
      if (code === 0 || (code === 1 && stdout.includes('RESULT: FAIL'))) resolve(stdout);
      else reject(new Error(`\`${variant.command}\` exited ${code}:\n${stderr || stdout}`));
    });
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** `data`'s figures with `record` in place of its old version, in the catalog's order. */
function upsert(current: FiguresData, record: FigureRecord): FigureRecord[] {
  const byName = new Map(current.figures.map((f) => [f.name, f]));
  byName.set(record.name, record);
  const order = (name: string) => {
    const at = CATALOG.findIndex((f) => f.name === name);
    return at < 0 ? CATALOG.length : at;
  };
  return [...byName.values()].sort((a, b) => order(a.name) - order(b.name));
}

function save(figures: FiguresData): void {
  writeFileSync(path.join(ROOT, DATA_FILE), serializeFigures(figures));
  writeFileSync(path.join(ROOT, PAGE_FILE), renderPage(figures));
}
