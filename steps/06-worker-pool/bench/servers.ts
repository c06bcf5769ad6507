// What the step 06 benchmarks share: a redis-server of their own (no
// persistence, a free port), the resident memory of a process, medians.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

export interface RedisServer {
  port: number;
  pid: number;
  stop(): void;
}

/** A free TCP port on 127.0.0.1 (for redis-server, which cannot take port 0 and tell us). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts redis-server without persistence; resolves once it accepts connections. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => redis.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise<void>((resolve) => createInterface({ input: redis.stdout! }).on('line', (line) => {
    if (/Ready to accept connections/.test(line)) resolve();
  }));
  return { port, pid: redis.pid!, stop: () => redis.kill('SIGTERM') };
}

/** Resident memory of a process, in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) / 1024;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
