import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs the tester as a program (`tester/cli.ts ARGS`) from the repository's
 * root and resolves with its exit code and output. No report page unless the
 * test asks for one (--html beats KV_HTML).
 */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tester/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, KV_HTML: 'off' } });
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
