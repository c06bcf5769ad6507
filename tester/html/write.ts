import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../shared/cli/steps.ts';
import { renderPage, type PageColumn } from './page.ts';

// Where the tester, compare and bench write their report page (--html):
// - `reports/` (the default): a new page per run in the repository's
//   reports/ folder (ignored by git), named by the time and the target;
// - a path ending in `/`, or an existing folder: a new page per run there;
// - a file name: that file, replaced on every run;
// - `off`: no page.
// A path given on the command line is relative to where npm was run from.

export const DEFAULT_HTML = 'reports/';

/**
 * `--html` with no value means the default: puts it in, so that the option
 * parser (which wants a value) accepts `npm run compare -- 02 03 --html`.
 */
export function htmlFlagDefault(argv: string[]): string[] {
  return argv.flatMap((arg, i) => (arg === '--html' && (i === argv.length - 1 || argv[i + 1]!.startsWith('--')) ? [arg, DEFAULT_HTML] : [arg]));
}

/** The file to write for `--html VALUE`, or null for `off`. `label` names the run (`step-02`). */
export function reportPagePath(value: string, label: string, now = new Date()): string | null {
  if (value === 'off') return null;
  const base = value === DEFAULT_HTML ? ROOT : (process.env.INIT_CWD ?? process.cwd());
  const target = path.resolve(base, value);
  if (value.endsWith('/') || isFolder(target)) {
    const stamp = now.toISOString().replace(/:/g, '-').replace('.', '-');
    return path.join(target, `${stamp}-${label.replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '')}-${process.pid}.html`);
  }
  return target;
}

/** Writes the page and returns its path as a person would type it (relative when inside the current folder). */
export function writeReportPage(file: string, columns: PageColumn[], title: string, command: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderPage(columns, { title, command, generatedAt: new Date().toISOString().replace('T', ' ').slice(0, 19) + ' UTC' }));
  const relative = path.relative(process.env.INIT_CWD ?? process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
}

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
