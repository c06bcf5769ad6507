import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT } from '../cli/steps.ts';

// Turns a TypeScript entry file, and everything it imports, into one plain
// JavaScript file that a Worker thread or a process runs WITHOUT tsx.
//
// Why: tsx's loader costs each thread about 20 MB and each process about
// 35 MB of memory (measured: a bare Node process holds 40 MB, the same with
// `--import tsx` 73 MB), and a Worker that loads .ts files through it takes
// ~200 ms to start. Step 06 starts its pool threads and worker processes from
// bundles made here with esbuild (the compiler tsx itself uses), and `npm
// start` its server (tester/course/server-command.ts): the code they run is the same .ts
// source, which stays the truth; a bundle is a build artifact.
//
// The bundle is cached in node_modules/.cache/kv-course/, named after a hash
// of its content, with a stamp beside it: the size and modification time of
// every file that went into it. A start whose files are all unchanged takes
// the bundle as it is (a few stat calls); otherwise esbuild builds it again
// (30-150 ms, more on a busy machine).
//
// `import.meta.url` in a bundle would be the bundle's own address, in the
// cache folder, for every module in it. So each module's `import.meta.url`
// is replaced by its source file's address: `new URL('./pool-thread.ts',
// import.meta.url)` still names the file beside the source.

const CACHE = path.join(ROOT, 'node_modules', '.cache', 'kv-course');
const ESBUILD = createRequire(import.meta.url).resolve('esbuild/bin/esbuild');

interface Stamp {
  out: string;
  /** [path from ROOT, size, mtimeMs] of every input. */
  inputs: Array<[string, number, number]>;
}

/**
 * The path of a runnable .mjs bundle of `entry` (a .ts file URL or path);
 * with `sourceMap`, an inline source map (for node --enable-source-maps).
 */
export function bundle(entry: URL | string, { sourceMap = false } = {}): string {
  const file = entry instanceof URL ? fileURLToPath(entry) : entry;
  const name = path.basename(file, '.ts');
  const stampFile = path.join(CACHE, `${name}-${createHash('sha256').update(`${file} ${sourceMap}`).digest('hex').slice(0, 16)}.json`);
  const cached = upToDate(stampFile);
  if (cached !== null) return cached;

  mkdirSync(CACHE, { recursive: true });
  const temporary = `${stampFile}.${process.pid}`;
  // The esbuild command, run once to the end: its JavaScript API would keep
  // a helper process alive (and its memory counted) for later calls.
  execFileSync(ESBUILD, [
    path.relative(ROOT, file), '--bundle', '--platform=node', '--format=esm', '--target=node20', '--log-level=error',
    `--outfile=${temporary}.mjs`, `--metafile=${temporary}.meta`, ...(sourceMap ? ['--sourcemap=inline'] : []),
  ], { cwd: ROOT });
  const code = Buffer.from(withModuleUrls(readFileSync(`${temporary}.mjs`, 'utf8')));
  const inputs = Object.keys((JSON.parse(readFileSync(`${temporary}.meta`, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
  rmSync(`${temporary}.mjs`, { force: true });
  rmSync(`${temporary}.meta`, { force: true });

  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const out = path.join(CACHE, `${name}-${hash}.mjs`);
  if (!existsSync(out)) writeAtomically(out, code);
  const stamp: Stamp = { out, inputs: inputs.map((input) => [input, ...sizeAndTime(path.join(ROOT, input))]) };
  writeAtomically(stampFile, Buffer.from(JSON.stringify(stamp)));
  return out;
}

/** The bundle the stamp names, if it and every input are as the stamp says; else null. */
function upToDate(stampFile: string): string | null {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
  } catch {
    return null;
  }
  if (!existsSync(stamp.out)) return null;
  for (const [input, size, mtimeMs] of stamp.inputs) {
    const [nowSize, nowTime] = sizeAndTime(path.join(ROOT, input));
    if (nowSize !== size || nowTime !== mtimeMs) return null;
  }
  return stamp.out;
}

function sizeAndTime(file: string): [number, number] {
  try {
    const stat = statSync(file);
    return [stat.size, stat.mtimeMs];
  } catch {
    return [-1, -1];
  }
}

function writeAtomically(file: string, bytes: Buffer): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  // Rename is atomic: a process starting at the same moment never reads half a file.
  renameSync(temporary, file);
}

/**
 * esbuild's bundle starts each module with a comment naming its source
 * (`// shared/cli/steps.ts`, from ROOT); in each, `import.meta.url` becomes
 * that file's URL.
 */
function withModuleUrls(code: string): string {
  const token = ['import', 'meta', 'url'].join('.'); // spelled so: this file is bundled too
  let url = token;
  return code.split('\n').map((line) => {
    const start = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(line);
    if (start) url = JSON.stringify(pathToFileURL(path.join(ROOT, start[1]!)).href);
    return line.includes(token) ? line.replaceAll(token, url) : line;
  }).join('\n');
}
