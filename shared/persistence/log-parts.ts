import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

// A log in several parts, as Redis 7 keeps its append-only file: a BASE (the
// live data when the log was last rewritten, one record per key), INCR files
// (the records appended since, oldest first; the last one is where appends
// go), and a MANIFEST naming them. Replay reads the base, then each incr,
// in order; that is the whole meaning of a log.
//
//   log-0-of-2.manifest        base log-0-of-2.base.3.aof
//                              incr log-0-of-2.incr.4.aof
//   log-0-of-2.base.3.aof      SET records, one per live key
//   log-0-of-2.incr.4.aof      everything written since the rewrite began
//
// A log that was never rewritten has no manifest: it is the single file
// `log-0-of-2.aof` (steps 04 and 05 never leave that layout), read as the
// only incr.
//
// The manifest changes only by REPLACEMENT: written whole to a temporary
// file, fsynced, renamed over the old one (rename is atomic: a reader, or a
// crash, sees the old manifest or the new one, never a mix), and the folder
// fsynced so that the rename itself survives a power loss. A part the
// manifest does not name is garbage from an interrupted rewrite: the owner of
// the folder deletes it (removeUnreferenced) before it writes anything.

export interface Manifest {
  /** The base part, or null before the first rewrite. */
  base: string | null;
  /** The incr parts, oldest first; the last one takes the appends. */
  incrs: string[];
}

const stem = (log: string) => log.replace(/\.aof$/, '');
const manifestFile = (dataDir: string, log: string) => path.join(dataDir, `${stem(log)}.manifest`);

/** The parts of `log` now (its manifest, or the single file of a log never rewritten). */
export function readManifest(dataDir: string, log: string): Manifest {
  const file = manifestFile(dataDir, log);
  if (!existsSync(file)) return { base: null, incrs: [log] };
  const manifest: Manifest = { base: null, incrs: [] };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [kind, name] = line.split(' ');
    if (kind === 'base' && name) manifest.base = name;
    else if (kind === 'incr' && name) manifest.incrs.push(name);
    else if (line !== '') throw new Error(`${file}: not a manifest line: ${JSON.stringify(line)}`);
  }
  if (manifest.incrs.length === 0) throw new Error(`${file} names no incr file`);
  return manifest;
}

/**
 * Replaces the manifest of `log`, durably and atomically (see above). The
 * fsyncs run on libuv's threads: the caller's event loop goes on meanwhile.
 */
export async function writeManifest(dataDir: string, log: string, manifest: Manifest): Promise<void> {
  const file = manifestFile(dataDir, log);
  const lines = [...(manifest.base ? [`base ${manifest.base}`] : []), ...manifest.incrs.map((name) => `incr ${name}`)];
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(lines.join('\n') + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const folder = await open(dataDir, 'r');
  try {
    await folder.sync(); // the rename itself survives a power loss
  } finally {
    await folder.close();
  }
}

/** Every part, in replay order. */
export function partsInOrder(manifest: Manifest): string[] {
  return [...(manifest.base ? [manifest.base] : []), ...manifest.incrs];
}

/** A name for a new part of `log`, numbered after every part that exists. */
export function newPartName(dataDir: string, log: string, kind: 'base' | 'incr'): string {
  let highest = 0;
  for (const name of partsOf(dataDir, log)) highest = Math.max(highest, Number(name.split('.').at(-2)));
  return `${stem(log)}.${kind}.${highest + 1}.aof`;
}

/** Whether `name` is a file of `log`'s (its single file, a part, its manifest). */
export function belongsTo(name: string, log: string): boolean {
  return name === log || name === `${stem(log)}.manifest` || name === `${stem(log)}.manifest.tmp` ||
    new RegExp(`^${escape(stem(log))}\\.(base|incr)\\.\\d+\\.aof$`).test(name);
}

/**
 * Deletes the files of `log` its manifest does not name: parts of a rewrite
 * that was interrupted, or already replaced. Only the folder's owner may.
 */
export function removeUnreferenced(dataDir: string, log: string): string[] {
  const named = new Set(partsInOrder(readManifest(dataDir, log)));
  const removed = readdirSync(dataDir).filter((name) => belongsTo(name, log) && !named.has(name) && !name.endsWith('.manifest'));
  for (const name of removed) rmSync(path.join(dataDir, name), { force: true });
  return removed;
}

function partsOf(dataDir: string, log: string): string[] {
  return readdirSync(dataDir).filter((name) => belongsTo(name, log) && /\.(base|incr)\.\d+\.aof$/.test(name));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
