import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Scratch folders (data folders for tests and demos) that are removed when the
// process that made them ends: normally, after a failed test or an uncaught
// error, and on SIGINT, SIGTERM or SIGHUP (Ctrl+C, or the test runner stopping
// a file that ran too long), which are turned into an ordinary exit so that
// the 'exit' handlers run. Only a SIGKILL leaves one behind.
//
// Servers a test launched are stopped by their own 'exit' handler
// (tester/harness/launch.ts), registered before this one, so it runs first.

const made = new Set<string>();
let installed = false;

/** A new empty folder `<tmpdir>/<prefix>XXXXXX`, removed when this process ends. */
export function scratchDir(prefix: string): string {
  if (!installed) {
    installed = true;
    process.once('exit', removeScratchDirs);
    for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
      // Only when nobody else handles it: then the default would have ended the process without 'exit'.
      if (process.listenerCount(signal) === 0) process.once(signal, () => process.exit(128 + number));
    }
  }
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every scratch folder made so far (a server SIGKILLed a moment ago may still be writing: retried). */
export function removeScratchDirs(): void {
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      made.delete(dir);
    } catch (caught) {
      process.stderr.write(`could not remove ${dir}: ${(caught as Error).message}\n`);
    }
  }
}
