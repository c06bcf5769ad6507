import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../cli/steps.ts';

// Turns a TypeScript entry file, and everything it imports, into one plain
// JavaScript file that a Worker thread or a child process runs WITHOUT tsx.
//
// Why: tsx's loader costs each thread about 20 MB and each process about
// 35 MB of memory (measured: a bare Node process holds 40 MB, the same with
// `--import tsx` 73 MB), and a Worker that loads .ts files through it takes
// ~200 ms to start. Step 06 starts its pool threads and worker processes from
// bundles made here with esbuild (the compiler tsx itself uses); the code
// they run is the same .ts source.
//
// The bundle is cached in node_modules/.cache/kv-course/, named after a hash
// of its content: built again (about 30 ms) at every start, written only when
// the source changed.

const CACHE = path.join(ROOT, 'node_modules', '.cache', 'kv-course');
const ESBUILD = createRequire(import.meta.url).resolve('esbuild/bin/esbuild');

/** The path of a runnable .mjs bundle of `entry` (a .ts file URL or path). */
export function bundle(entry: URL | string): string {
  const file = entry instanceof URL ? fileURLToPath(entry) : entry;
  // The esbuild command, run once to the end: its JavaScript API would keep
  // a helper process alive (and its memory counted) for later calls.
  const code = execFileSync(ESBUILD, [file, '--bundle', '--platform=node', '--format=esm', '--target=node20', '--log-level=error'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const out = path.join(CACHE, `${path.basename(file, '.ts')}-${hash}.mjs`);
  if (!existsSync(out)) {
    mkdirSync(CACHE, { recursive: true });
    const temporary = `${out}.${process.pid}.tmp`;
    writeFileSync(temporary, code);
    // Rename is atomic: a process starting at the same moment never reads half a file.
    renameSync(temporary, out);
  }
  return out;
}
