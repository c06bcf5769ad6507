import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs the tester as a program (`tester/cli.ts ARGS`) from the repository's
 * root and resolves with its exit code and output. No report page unless the
 * test asks for one (--html beats KV_HTML).
 */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProgram('tester/cli.ts', args);
}

/** The same for another program of the repository (`tester/compare.ts`, say), with `env` added to this process's. */
export function runProgram(script: string, args: string[], env: Record<string, string> = { KV_HTML: 'off' }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    // Decoded as text by the stream, not chunk by chunk: a character of several
    // bytes (→) split between two chunks would otherwise turn into garbage.
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Fails, showing them, if some lines of `text` are wider than 100 columns
 * (the text report's width, wrap.ts's COLUMNS): counted as displayed, colour codes left out and each character
 * (→, ▁) one column. (Counted here, not with wrap.ts's displayWidth, which is
 * what is under test.)
 */
export function assertWithinColumns(text: string, what: string): void {
  const COLUMNS = 100;
  const columns = (line: string) => Array.from(line.replace(/\x1b\[[0-9;]*m/g, '')).length;
  const wide = text.split('\n').filter((line) => columns(line) > COLUMNS);
  assert.deepEqual(wide.map((line) => `${columns(line)} columns: ${line}`), [], `${what}: lines wider than ${COLUMNS} columns`);
}
