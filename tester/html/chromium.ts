import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Headless Chromium, driven from its command line: no library. `--dump-dom`
// prints the page's DOM once it has loaded and its scripts have run (the
// report page writes data-drawn-ms, data-errors and data-height on <html>),
// and `--screenshot` writes a PNG. Console messages and uncaught errors reach
// stderr with `--enable-logging=stderr` as `INFO:CONSOLE(...)` lines; the page
// itself logs nothing, so any such line is a fault. To ask the browser
// something (where a text is drawn), evaluateInPage adds a script to a copy of
// the page and reads its answer back from the dumped DOM.
//
// That is all the test, the benchmark and the screenshots need; a driver
// library (playwright-core, puppeteer) would add a dependency for nothing
// these two switches do not already do.

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--force-device-scale-factor=1',
];

export interface DumpResult {
  /** The DOM after load, as HTML. */
  dom: string;
  /** The console messages and uncaught errors Chromium logged. */
  consoleLines: string[];
  /** The attributes the page set on <html>: drawnMs, frameMs (NaN if not set), errors, height. */
  drawnMs: number;
  frameMs: number;
  errors: string;
  height: number;
}

/** Opens `file` (with an optional #fragment) and returns its DOM after load. */
export async function dumpDom(file: string, fragment = '', timeoutMs = 30_000, width?: number): Promise<DumpResult> {
  const size = width === undefined ? [] : [`--window-size=${width},1000`];
  const { stdout, stderr } = await chromium(['--enable-logging=stderr', '--v=0', ...size, '--dump-dom', url(file, fragment)], timeoutMs);
  const attribute = (name: string) => new RegExp(`<html[^>]*\\s${name}="([^"]*)"`).exec(stdout)?.[1] ?? '';
  return {
    dom: stdout,
    consoleLines: stderr.split('\n').filter((line) => /:CONSOLE[:(]/.test(line)),
    drawnMs: Number(attribute('data-drawn-ms')),
    frameMs: attribute('data-frame-ms') === '' ? NaN : Number(attribute('data-frame-ms')),
    errors: attribute('data-errors'),
    height: Number(attribute('data-height')),
  };
}

/**
 * Runs `expression` (JavaScript, as text) in the page once it has loaded and
 * laid out, and returns its value (anything JSON can carry): what a test needs
 * to ask the browser itself, such as where each element is drawn
 * (getBoundingClientRect). A copy of the page, with the expression in a script
 * at the end of its body, is opened in a fresh folder; the value comes back
 * on <html> in the dumped DOM.
 */
export async function evaluateInPage(file: string, expression: string, width = 1400, fragment = ''): Promise<unknown> {
  const folder = mkdtempSync(path.join(tmpdir(), 'kv-evaluate-'));
  const copy = path.join(folder, path.basename(file));
  const script = `<script>document.documentElement.dataset.evaluated = encodeURIComponent(JSON.stringify((${expression})));</script>`;
  const html = readFileSync(file, 'utf8');
  const end = html.lastIndexOf('</body>');
  writeFileSync(copy, end < 0 ? html + script : html.slice(0, end) + script + html.slice(end));
  try {
    const page = await dumpDom(copy, fragment, 30_000, width);
    if (page.errors !== '') throw new Error(`the page met an error: ${page.errors}`);
    const value = /<html[^>]*\sdata-evaluated="([^"]*)"/.exec(page.dom)?.[1];
    if (value === undefined) throw new Error(`the expression did not run in ${file}: ${page.consoleLines.join('\n')}`);
    return JSON.parse(decodeURIComponent(value));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Writes a PNG of the page `width` pixels wide and as tall as the page
 * (measured first with dumpDom at that width), or as `height` says. The
 * scrollbars show, as a reader sees them (a timeline that scrolls sideways
 * shows its own).
 */
export async function screenshot(file: string, png: string, width: number, fragment = '', height?: number): Promise<void> {
  const tall = height ?? Math.min(8000, (await dumpDom(file, fragment, 30_000, width)).height + 16);
  await chromium([`--screenshot=${png}`, `--window-size=${width},${tall}`, url(file, fragment)], 60_000);
  if (!existsSync(png)) throw new Error(`chromium wrote no screenshot at ${png}`);
}

function url(file: string, fragment: string): string {
  return pathToFileURL(path.resolve(file)).href + fragment;
}

/** Runs Chromium with a fresh profile folder; kills it if it takes longer than `timeoutMs`. */
function chromium(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'kv-chromium-'));
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as text by the stream, not chunk by chunk: a character of several
    // bytes (→) split between two chunks would otherwise turn into garbage.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chromium did not finish within ${timeoutMs} ms: ${args.join(' ')}`));
    }, timeoutMs);
    child.on('error', (caught) => {
      clearTimeout(timer);
      reject(caught);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`chromium exited with ${code}: ${stderr.slice(-2000)}`));
    });
  });
}
