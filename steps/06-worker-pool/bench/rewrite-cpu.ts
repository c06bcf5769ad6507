// What one log rewrite costs a worker process: the CPU time of rewriting
// one log of SETS records over KEYS keys (redis-benchmark's load of
// replication.ts: 16-byte keys, 3-byte values, keys drawn at random), in
// this process, with RewritableLog (shared/persistence/log-rewrite.ts).
// The median of ROUNDS rewrites.
//
//   npx tsx steps/06-worker-pool/bench/rewrite-cpu.ts [ROUNDS] [SETS] [KEYS] [--before DIR]
//
// With --before, the same with the log-rewrite.ts of another tree (a
// checkout with node_modules), its rewrites in turn with this tree's, so
// that a drift of the machine favours neither. Each round writes a fresh
// log (the same records for both trees), then times one rewrite of it:
// process.cpuUsage() around it, so that other processes on the cores count
// less than in a wall-clock time (their cache misses and this process's
// waits for the disk still do).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stepLine } from '../../../tester/progress.ts';
import { median } from './servers.ts';

const numbers = process.argv.slice(2).filter((arg) => /^\d+$/.test(arg));
const rounds = Number(numbers[0] ?? 7);
const sets = Number(numbers[1] ?? 300_000);
const keys = Number(numbers[2] ?? 100_000);
const beforeAt = process.argv.indexOf('--before');
const here = path.resolve(import.meta.dirname, '../../..');
const trees = beforeAt > 0 ? [path.resolve(process.argv[beforeAt + 1]!), here] : [here];
const line = stepLine();

interface LogFigures { aof_rewrites: number; aof_rewrite_in_progress: number; aof_base_size: number }
interface Log {
  append(bytes: Uint8Array): void;
  rewrite(): boolean;
  close(): Promise<void>;
}
type LogClass = new (dir: string, log: string, policy: { percentage: number; minSize: number }, onFigures: (f: LogFigures) => void) => Log;

// The records, made once with this tree's task.ts (the format both trees read).
const { setRecord } = await import('../../../shared/persistence/task.ts');
const batches: Buffer[] = [];
for (let i = 0; i < sets; i += 1000) {
  const batch: Buffer[] = [];
  for (let j = i; j < Math.min(sets, i + 1000); j++) {
    const key = Buffer.from(`key:${String(Math.floor(Math.random() * keys)).padStart(12, '0')}`);
    batch.push(Buffer.from(setRecord(j + 1, key, Buffer.from('xxx'))));
  }
  batches.push(Buffer.concat(batch));
}

async function once(RewritableLog: LogClass): Promise<{ cpuMs: number; base: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kv-rewrite-cpu-'));
  try {
    let figures: LogFigures | null = null;
    const log = new RewritableLog(dir, 'log.aof', { percentage: 0, minSize: 0 }, (f) => (figures = f));
    for (const batch of batches) log.append(batch);
    const before = process.cpuUsage();
    log.rewrite();
    for (;;) {
      const now = figures as LogFigures | null;
      if (now !== null && now.aof_rewrite_in_progress === 0 && now.aof_rewrites === 1) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const cpu = process.cpuUsage(before);
    await log.close();
    return { cpuMs: (cpu.user + cpu.system) / 1000, base: (figures as LogFigures | null)!.aof_base_size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const classes = new Map<string, LogClass>();
for (const tree of trees) classes.set(tree, (await import(path.join(tree, 'shared/persistence/log-rewrite.ts'))).RewritableLog);
const cpu = new Map<string, number[]>(trees.map((tree) => [tree, []]));
let base = 0;
for (let round = 1; round <= rounds; round++) {
  for (const tree of round % 2 === 1 ? trees : [...trees].reverse()) {
    line.step(`round ${round}/${rounds}: a rewrite with ${tree === here ? 'this tree' : tree}`);
    const result = await once(classes.get(tree)!);
    cpu.get(tree)!.push(result.cpuMs);
    base = result.base;
  }
}
line.clear();
console.log(`one rewrite of a log of ${sets} SETs over ${keys} keys (${batches.reduce((sum, b) => sum + b.length, 0)} bytes; ` +
  `its base ${base} bytes), CPU time, median of ${rounds}:`);
for (const tree of trees) {
  console.log(`  ${tree === here ? 'this tree' : tree}: ${median(cpu.get(tree)!).toFixed(0)} ms ` +
    `(${cpu.get(tree)!.map((ms) => ms.toFixed(0)).join(', ')})`);
}
