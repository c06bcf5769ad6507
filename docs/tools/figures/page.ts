// The figures page: the one place a figure quoted in prose comes from.
//
// `npm run figures` (docs/tools/figures/figures.ts) measures every figure of the
// catalog (docs/tools/figures/catalog.ts) and saves the results in
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

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repositoryFiles } from '../docs-check.ts';
import { ROOT } from '../../../shared/cli/steps.ts';

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
  /** Short and unique in its figure: the value's anchor is `FIGURE-ID` (see `valueAnchor`). */
  id: string;
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
  const example = first?.values[0] === undefined
    ? { anchor: 'FIGURE-VALUE', quote: 'QUOTE' }
    : { anchor: valueAnchor(first, first.values[0]), quote: first.values[0].quote };
  const out: string[] = [
    '# Figures',
    '',
    '<!-- Written by `npm run figures` from docs/figures.json: do not edit by hand.',
    '     Each value has an <a id> of its own, the anchor that quotes link to. -->',
    '<!-- markdownlint-disable MD033 -->',
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
    '**Quoting a figure.** Prose quotes a value as a link to its row here (each',
    'value has an anchor, `#FIGURE-ID`), with the quote column\'s text exactly and',
    `no other number in the link: \`[about ${example.quote}](../../docs/figures.md#${example.anchor})\``,
    "from a step's README, for example; also in code comments. A link to a",
    'figure\'s section with no number in it is a reference. `npm test` checks every',
    'such link against this page (`docs/figures.test.ts`; it measures nothing).',
    'When `npm run figures` measures a quote anew, it rewrites each link that',
    'quoted the old one, and lists them: read those sentences again, since what',
    'they say about the figure may have to change with it.',
    '',
    '| figure | what it is | measured | load average |',
    '| --- | --- | --- | --- |',
    ...data.figures.map((f) => `| [${f.name}](#${f.name}) | ${f.title} | ${f.date.slice(0, 16).replace('T', ' ')} UTC | ` +
      `${f.machine.loadBefore.toFixed(1)} |`),
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
      ...figure.values.map((v) => `| <a id="${valueAnchor(figure, v)}"></a>${v.label} | ${v.quote} | ${v.measured} |`),
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

/** A link to the page: `[text](...figures.md#anchor)`. Text may wrap lines (in Markdown and in comments). */
const QUOTE_LINK = /\[([^\]]+)\]\(\s*<?([^)\s>]*figures\.md)#([A-Za-z0-9-]+)>?\s*\)/g;

/** The anchor of one value of a figure: `thread-cost-memory`. */
export const valueAnchor = (figure: FigureRecord, value: FigureValue) => `${figure.name}-${value.id}`;

/** What an anchor of the page names: a figure, or one value of a figure. */
function resolve(data: FiguresData, anchor: string): { figure: FigureRecord; value?: FigureValue } | null {
  for (const figure of data.figures) {
    if (figure.name === anchor) return { figure };
    const value = figure.values.find((v) => valueAnchor(figure, v) === anchor);
    if (value) return { figure, value };
  }
  return null;
}

/** A link's text on one line, with the comment markers of wrapped code comments left out. */
const flatten = (text: string) => text.replace(/\s*\n\s*(?:\/\/|\*|#)?\s*/g, ' ').trim();

/**
 * Every link to the page in `text` (the contents of `file`) that is wrong: a
 * link with a number in its text must go to one value's anchor and hold that
 * value's quote exactly, and no other number; a link with no number is a
 * reference and only its anchor must exist.
 */
export function checkQuotesIn(file: string, text: string, data: FiguresData): QuoteProblem[] {
  const problems: QuoteProblem[] = [];
  for (const match of text.matchAll(QUOTE_LINK)) {
    const line = text.slice(0, match.index).split('\n').length;
    const shown = flatten(match[1]!);
    const anchor = match[3]!;
    const target = resolve(data, anchor);
    const problem = (message: string) => problems.push({ file, line, message: `"${shown}": ${message}` });
    if (!target) {
      problem(`${PAGE_FILE} has no figure or value #${anchor}`);
    } else if (!/\d/.test(shown)) {
      continue; // a reference ("see the figures page"), not a quote
    } else if (!target.value) {
      problem(`a number links to the whole figure #${anchor}: link it to the value it quotes, one of ` +
        target.figure.values.map((v) => `#${valueAnchor(target.figure, v)} ("${v.quote}")`).join(', '));
    } else {
      const at = findQuote(shown, target.value.quote);
      if (at < 0 || /\d/.test(removeAt(shown, at, target.value.quote.length))) {
        problem(`${PAGE_FILE}#${anchor} is "${target.value.quote}" (${target.value.label}), ` +
          'and a link holds that quote exactly and no other number');
      }
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

export interface QuoteChange {
  file: string;
  line: number;
  from: string;
  to: string;
}

/**
 * After a new measurement: in `text`, every link to a value whose quote was
 * `before`'s and is now another replaced by `after`'s. Links that quote
 * neither are left for the check to report. Returns the new text and what changed.
 */
export function updateQuotesIn(file: string, text: string, before: FiguresData, after: FiguresData):
  { text: string; changes: QuoteChange[] } {
  const changes: QuoteChange[] = [];
  const updated = text.replace(QUOTE_LINK, (link: string, shown: string, _page: string, anchor: string, offset: number) => {
    const old = resolve(before, anchor)?.value;
    const now = resolve(after, anchor)?.value;
    if (!old || !now || old.quote === now.quote) return link;
    // The old quote as written, perhaps wrapped: any run of spaces may hold a line break.
    const written = new RegExp(old.quote.split(/\s+/).map(escapeRegExp).join('\\s+(?:(?://|\\*|#)\\s*)?'));
    const found = written.exec(shown);
    if (!found || findQuote(flatten(shown), old.quote) < 0) return link;
    changes.push({ file, line: text.slice(0, offset).split('\n').length, from: old.quote, to: now.quote });
    return link.replace(shown, shown.replace(written, now.quote));
  });
  return { text: updated, changes };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// This folder's code and tests show quoting links as examples: not quotes.
const OWN_FOLDER = 'docs/tools/figures/';

/** Files that may quote figures: every Markdown and TypeScript file but the page and this folder. */
export const quotingFiles = (root = ROOT): string[] => repositoryFiles(
  (file) => /\.(md|ts)$/.test(file) && file !== PAGE_FILE && !file.startsWith(OWN_FOLDER), root);

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
