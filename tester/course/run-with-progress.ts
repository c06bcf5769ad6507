import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { liveLine } from '../progress.ts';

// Runs a child process with its output passed through, and a progress line
// (`LABEL: 3 s`) under it while it runs, once it is two seconds old (see
// progress.ts). Made for the exercise runner (tester/course/exercise.ts), whose
// checks can run quietly for a while: in place of
//
//     const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
//
// it can call
//
//     const result = await runWithProgress(`exercise ${exercise}`, process.execPath, args, { timeoutMs });
//
// The child's output is piped (so that the line can be erased before each
// chunk and drawn again after it), with FORCE_COLOR set when our own output is
// a terminal, so that the test runner keeps its colours.

export interface RunWithProgressOptions {
  /** Kill the child (SIGKILL) after this long; none by default. */
  timeoutMs?: number;
  /** Where the progress line goes (stderr by default). */
  progress?: NodeJS.WriteStream;
  /** Where the child's output goes (our stdout and stderr by default). */
  stdout?: Writable;
  stderr?: Writable;
}

export interface RunWithProgressResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The child was killed because it ran past timeoutMs. */
  timedOut: boolean;
}

export function runWithProgress(label: string, command: string, args: string[], options: RunWithProgressOptions = {}): Promise<RunWithProgressResult> {
  const progressStream = options.progress ?? process.stderr;
  const show = liveLine(progressStream);
  const env = process.stdout.isTTY ? { ...process.env, FORCE_COLOR: '1' } : process.env;
  const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'pipe'], env });
  const started = Date.now();
  const forward = (to: Writable) => (chunk: Buffer) => {
    show('');
    to.write(chunk);
  };
  child.stdout!.on('data', forward(options.stdout ?? process.stdout));
  child.stderr!.on('data', forward(options.stderr ?? process.stderr));
  const ticker = setInterval(() => show(`${label}: ${Math.round((Date.now() - started) / 1000)} s`), 1000);
  let timedOut = false;
  const killer = options.timeoutMs === undefined ? null : setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (caught) => {
      clearInterval(ticker);
      if (killer) clearTimeout(killer);
      reject(caught);
    });
    child.once('close', (status, signal) => {
      clearInterval(ticker);
      if (killer) clearTimeout(killer);
      show('');
      resolve({ status, signal, timedOut });
    });
  });
}
