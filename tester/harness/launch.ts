import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { ROOT, findStep } from '../../shared/cli/steps.ts';

// Starts a step's server as a child process, the way tests, the tester and the
// benchmarks do: on port 0 (the system picks a free port, so runs never clash),
// then waits for its `listening on HOST:PORT` line to learn the port. No sleeps,
// no fixed ports.

export interface RunningServer {
  host: string;
  port: number;
  child: ChildProcess;
  /** Everything the server wrote to stderr so far (its log). */
  log(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGTERM by default) and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface LaunchOptions {
  /** Extra command-line arguments for the server. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Give up if the listening line has not come by then (ms). */
  startTimeoutMs?: number;
}

// Loaded into each server before its own code (see the file).
const STOP_WITH_LAUNCHER = new URL('./stop-with-launcher.mjs', import.meta.url).href;

const running = new Set<ChildProcess>();
// If the launching process ends, its servers end with it: no orphans.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// Once a server is up, it does not by itself keep the launching process
// alive: a test that fails before stopping its server must still end (and
// the 'exit' handler above then stops the server) instead of hanging.
// Waiting for the server to exit keeps the process alive again.
function holdOpen(child: ChildProcess, hold: boolean): void {
  // The pipes are sockets (net.Socket), though typed as plain streams.
  for (const handle of [child, child.stdin as Socket | null, child.stdout as Socket | null, child.stderr as Socket | null]) {
    if (handle) hold ? handle.ref() : handle.unref();
  }
}

/** Runs `body` with `server` (just started), and stops the server afterwards, pass or fail. */
export async function stopAfter<T>(server: RunningServer, body: (server: RunningServer) => Promise<T>): Promise<T> {
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

export function launchStep(step: string, options: LaunchOptions = {}): Promise<RunningServer> {
  return launchServer(findStep(step).server, options);
}

export function launchServer(serverFile: string, options: LaunchOptions = {}): Promise<RunningServer> {
  // A step that persists (04-06) gets a data directory of its own, removed
  // when it exits, unless the caller names one: tests and the tester must not
  // replay, or write into, the student's own data/ folder. (Steps without
  // persistence ignore KV_DATA_DIR.)
  const args = options.args ?? [];
  let scratchDir: string | null = null;
  if (!args.includes('--data-dir') && options.env?.KV_DATA_DIR === undefined) {
    scratchDir = mkdtempSync(path.join(tmpdir(), 'kv-launch-'));
  }
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', STOP_WITH_LAUNCHER, serverFile, '--port', '0', ...args],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...(scratchDir ? { KV_DATA_DIR: scratchDir } : {}),
        ...options.env,
      },
      // Its stdin is a pipe we never write to: when this process ends, even
      // by SIGKILL, the pipe ends and the server stops (stop-with-launcher.mjs).
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + text).slice(-64 * 1024);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${serverFile} printed no 'listening on' line within ${options.startTimeoutMs ?? 30_000} ms\n${stderr}`));
    }, options.startTimeoutMs ?? 30_000);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${serverFile} exited (${code ?? signal}) before listening\n${stderr}`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = /^listening on (.+):(\d+)$/.exec(line);
      if (!match) return;
      clearTimeout(timer);
      holdOpen(child, false);
      resolve({
        host: match[1]!,
        port: Number(match[2]),
        child,
        log: () => stderr,
        get exited() {
          holdOpen(child, true);
          return exited;
        },
        async stop(signal = 'SIGTERM') {
          holdOpen(child, true);
          if (child.exitCode === null && child.signalCode === null) {
            child.kill(signal);
            const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
            const result = await exited;
            clearTimeout(force);
            return result;
          }
          return exited;
        },
      });
    });
  });
}
