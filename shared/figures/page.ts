// The figures page: the one place a figure quoted in prose comes from.
//
// `npm run figures` (shared/figures/figures.ts) measures every figure of the
// catalog (shared/figures/catalog.ts) and saves the results in
// docs/figures.json; this module writes docs/figures.md from that file, and
// checks the prose against it. Prose quotes a figure as a link to its section
// whose text holds the figure's quote exactly, and no other number (a link
// with no number at all is a reference, and only its figure must exist):
//
//   carries [about 130,000](../../docs/figures.md#persister-path) writes a second
//
// `checkFigureQuotes` (run by `npm test` in docs/figures.test.ts; it measures
// nothing) finds every such link in the Markdown files and in the .ts files
// (comments), and reports each one whose number is not the page's, so that a
// figure re-measured and changed on the page fails the test until the prose
// follows it.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../cli/steps.ts';

/** The machine a figure was measured on. */
export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  /** 1-minute load average when the figure's runs began and when they ended. */
  loadBefore: number;
  loadAfter: number;
}

/** One figure's value: `quote` is what prose may quote, `measured` the raw runs. */
export interface FigureValue {
  label: string;
  quote: string;
  measured: string;
}

/** One command of a figure, as a reader would type it. */
export interface FigureCommand {
  label: string;
  command: string;
}

/** A figure as measured: what docs/figures.json holds for each one. */
export interface FigureRecord {
  name: string;
  title: string;
  about: string;
  /** How many times each command ran, the commands in turn. */
  repeats: number;
  commands: FigureCommand[];
  values: FigureValue[];
  /** The output lines the values were read from, from the last repeat. */
  sample: string[];
  date: string;
  seconds: number;
  machine: Machine;
}

export interface FiguresData {
  figures: FigureRecord[];
}

export const DATA_FILE = 'docs/figures.json';
export const PAGE_FILE = 'docs/figures.md';

export function loadFigures(root = ROOT): FiguresData {
  const file = path.join(root, DATA_FILE);
  if (!existsSync(file)) return { figures: [] };
  return JSON.parse(readFileSync(file, 'utf8')) as FiguresData;
}

export function serializeFigures(data: FiguresData): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

// -------------------------------------------------------------- rounding

/** `x` to two significant digits, with thousands separators: 127885 -> "130,000", 13.94 -> "14". */
export function twoDigits(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(2)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** "8-10", or "20" when every run gave the same; each end with `format`. */
export function range(xs: number[], format: (x: number) => string = (x) => x.toLocaleString('en-US')): string {
  const low = format(Math.min(...xs));
  const high = format(Math.max(...xs));
  return low === high ? low : `${low}-${high}`;
}

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** "median 127,885 of 3 runs (120,004, 127,885, 131,210)" */
export function describeRuns(xs: number[], unit = ''): string {
  const f = (x: number) => `${x.toLocaleString('en-US', { maximumFractionDigits: 2 })}${unit}`;
  if (xs.length === 1) return `1 run: ${f(xs[0]!)}`;
  return `median ${f(median(xs))} of ${xs.length} runs (${xs.map(f).join(', ')})`;
}

// ------------------------------------------------------------------ page

/** docs/figures.md, written from `data` (nothing else goes into it). */
export function renderPage(data: FiguresData): string {
  const first = data.figures[0];
  const example = { name: first?.name ?? 'NAME', quote: first?.values[0]?.quote ?? 'QUOTE' };
  const out: string[] = [
    '# Figures',
    '',
    '<!-- Written by `npm run figures` from docs/figures.json: do not edit by hand. -->',
    '',
    'Every figure about speed or memory that the course quotes in prose comes from',
    'this page, and this page comes from one command:',
    '',
    '<!-- docs-check: skip -->',
    '',
    '```sh',
    'npm run figures',
    '# one figure only, the others kept as they were:',
    'npm run figures -- --only thread-cost',
    '```',
    '',
    'It runs each command below several times, in turn with the other commands of',
    'its figure (A, B, A, B..., so that figures compared with each other were',
    'measured under the same load), reads the figures from their output, and',
    'writes `docs/figures.json` and this page. Measuring all of',
    `the figures below took ${data.figures.reduce((sum, f) => sum + f.seconds, 0).toFixed(0)} s.`,
    '',
    '**These figures were measured on a shared machine**: two cores, with other',
    "people's tests running at the same time (the load average is given with each",
    'figure). Absolute figures are lower and noisier than on an idle machine; a',
    'ratio measured in one run (A and B in turn) is what to trust. On your machine,',
    'run the command and compare.',
    '',
    '**Quoting a figure.** Prose quotes a figure as a link to its section here,',
    'with the quote column\'s text exactly and no other number in the link, for',
    `example \`[about ${example.quote}](../../docs/figures.md#${example.name})\``,
    "from a step's README, also in code comments. `npm test` checks every such",
    'link against this page',
    '(`docs/figures.test.ts`; it measures nothing): after a new measurement',
    'changes a quote, the test names every sentence that still quotes the old one.',
    '',
    '| figure | what it is | measured |',
    '| --- | --- | --- |',
    ...data.figures.map((f) => `| [${f.name}](#${f.name}) | ${f.title} | ${f.date.slice(0, 10)} |`),
  ];
  for (const figure of data.figures) {
    const m = figure.machine;
    out.push(
      '',
      `## ${figure.name}`,
      '',
      ...wrap(`**${figure.title}.** ${figure.about}`),
      '',
      '| value | quote | measured |',
      '| --- | --- | --- |',
      ...figure.values.map((v) => `| ${v.label} | ${v.quote} | ${v.measured} |`),
      '',
      figure.commands.length > 1
        ? `The commands, run in turn, ${plural(figure.repeats, 'time')} each:`
        : `The command, run ${plural(figure.repeats, 'time')}:`,
      '',
      '<!-- docs-check: skip -->',
      '',
      '```sh',
      ...figure.commands.flatMap((c) => [`# ${c.label}`, c.command]),
      '```',
      '',
      `Measured ${figure.date.replace('T', ' ').slice(0, 16)} UTC in ${figure.seconds.toFixed(0)} s, on`,
      `${m.cores} cores (${m.cpu}), Node ${m.node}, load average ${m.loadBefore.toFixed(1)} before and`,
      `${m.loadAfter.toFixed(1)} after. What the values were read from, in the last run:`,
      '',
      '```text',
      ...figure.sample,
      '```',
    );
  }
  return `${out.join('\n')}\n`;
}

/** `text` in lines of at most `width` characters, broken at spaces. */
export function wrap(text: string, width = 80): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

// ---------------------------------------------------------------- quotes

export interface QuoteProblem {
  file: string;
  line: number;
  message: string;
}

/** A link to a figure's section: `[text](...figures.md#name)`. Text may wrap lines in Markdown. */
const QUOTE_LINK = /\[([^\]]+)\]\(\s*<?([^)\s>]*figures\.md)#([A-Za-z0-9-]+)>?\s*\)/g;

/**
 * Every link to a figure in `text` (the contents of `file`) whose text does not
 * quote exactly one of that figure's quotes, with no other number beside it.
 */
export function checkQuotesIn(file: string, text: string, data: FiguresData): QuoteProblem[] {
  const problems: QuoteProblem[] = [];
  const byName = new Map(data.figures.map((f) => [f.name, f]));
  for (const match of text.matchAll(QUOTE_LINK)) {
    const line = text.slice(0, match.index).split('\n').length;
    const shown = match[1]!.replace(/\s*(\n\s*(\/\/|\*|#)?)\s*/g, ' ').trim();
    const name = match[3]!;
    const figure = byName.get(name);
    if (!figure) {
      problems.push({ file, line, message: `"${shown}" links to figure "${name}", which ${PAGE_FILE} does not have` });
      continue;
    }
    if (!/\d/.test(shown)) continue; // a reference to the figure ("see the figures page"), not a quote
    const quotes = [...new Set(figure.values.map((v) => v.quote))];
    const found = quotes.filter((q) => findQuote(shown, q) >= 0);
    // The longest quote found (a quote "14 MB" inside "about 14 MB"), and then nothing numeric left over.
    const best = found.sort((a, b) => b.length - a.length)[0];
    const rest = best === undefined ? shown : removeAt(shown, findQuote(shown, best), best.length);
    if (best === undefined || /\d/.test(rest)) {
      problems.push({
        file, line,
        message: `"${shown}" does not quote a figure of ${PAGE_FILE}#${name} as the page gives it ` +
          `(one of: ${quotes.map((q) => `"${q}"`).join(', ')}; one quote per link, no other number in the link)`,
      });
    }
  }
  return problems;
}

/** Where `quote` occurs in `text` as a whole figure (not inside a longer number), or -1. */
function findQuote(text: string, quote: string): number {
  for (let at = text.indexOf(quote); at >= 0; at = text.indexOf(quote, at + 1)) {
    const before = text[at - 1] ?? ' ';
    const after = text[at + quote.length] ?? ' ';
    if (!/[\d.,-]/.test(before) && !/^(\d|[.,-]\d)/.test(after + (text[at + quote.length + 1] ?? ''))) return at;
  }
  return -1;
}

const removeAt = (text: string, at: number, length: number) => text.slice(0, at) + text.slice(at + length);

// This folder's code and tests show quoting links as examples: not quotes.
const OWN_FOLDER = 'shared/figures/';

/** Files that may quote figures: every Markdown and TypeScript file but the page and this folder. */
export function quotingFiles(root = ROOT): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'data') continue;
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (/\.(md|ts)$/.test(entry.name) && child !== PAGE_FILE && !child.startsWith(OWN_FOLDER)) found.push(child);
    }
  };
  walk('');
  return found.sort();
}

/** The whole check: the page is what `npm run figures` writes, and every quote matches it. */
export function checkFigureQuotes(root = ROOT): { problems: QuoteProblem[]; quotes: number } {
  const data = loadFigures(root);
  const problems: QuoteProblem[] = [];
  const pageFile = path.join(root, PAGE_FILE);
  const page = existsSync(pageFile) ? readFileSync(pageFile, 'utf8') : '';
  if (page !== renderPage(data)) {
    problems.push({
      file: PAGE_FILE, line: 1,
      message: `not what \`npm run figures\` writes from ${DATA_FILE} (edited by hand?): run \`npm run figures -- --render\``,
    });
  }
  let quotes = 0;
  for (const file of quotingFiles(root)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    quotes += [...text.matchAll(QUOTE_LINK)].length;
    problems.push(...checkQuotesIn(file, text, data));
  }
  return { problems, quotes };
}
