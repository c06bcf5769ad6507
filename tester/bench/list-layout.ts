// Why a list's elements live beside the store (shared/store/lists.ts) and not
// in one value of the shared store: the cost of N pushes to one list, both
// ways, in one run, interleaved, medians of 5.
//
//   npx tsx tester/bench/list-layout.ts [N]
//
// "one value": the list encoded as one value of the GrowableStore
// (4-byte length + bytes per element), read, extended and written back on
// each RPUSH: O(length) per push, and past 64 KB a buffer of its own each
// time. "deque": what the server does: a Deque on the event loop, the key a
// typed record of the store (written once), a journal call per element.

import { GrowableStore } from '../../shared/store/growable-store.ts';
import { Lists } from '../../shared/store/lists.ts';
import { stepLine } from '../progress.ts';

const n = Number(process.argv[2] ?? 20_000);
const element = Buffer.from('xyz'); // redis-benchmark's LPUSH pushes 3 bytes

function oneValue(): number {
  const store = GrowableStore.create();
  const key = Buffer.from('mylist');
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const old = store.get(key) ?? Buffer.alloc(0);
    const grown = Buffer.allocUnsafe(old.length + 4 + element.length);
    old.copy(grown, 0);
    grown.writeUInt32LE(element.length, old.length);
    element.copy(grown, old.length + 4);
    store.set(key, grown);
  }
  return performance.now() - started;
}

function deque(): number {
  const store = GrowableStore.create();
  const withJournal = Object.assign(store, { journal: () => {} });
  const lists = new Lists();
  const key = Buffer.from('mylist');
  const started = performance.now();
  for (let i = 0; i < n; i++) lists.push(withJournal, key, [element], false);
  return performance.now() - started;
}

const times: Record<string, number[]> = { 'one value': [], deque: [] };
// The pushes block the event loop: the progress line (on stderr) is drawn at each step.
const line = stepLine();
for (let run = 0; run < 5; run++) {
  line.step(`run ${run + 1}/5: ${n} pushes to one value`);
  times['one value']!.push(oneValue());
  line.step(`run ${run + 1}/5: ${n} pushes to a deque`);
  times.deque!.push(deque());
}
line.clear();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[2]!;
console.log(`${n} RPUSHes of 3 bytes to one list, median of 5 runs (interleaved):`);
for (const [name, values] of Object.entries(times)) {
  const ms = median(values);
  console.log(`  ${name.padEnd(9)} ${ms.toFixed(1).padStart(9)} ms   ${Math.round(n / (ms / 1000)).toString().padStart(10)} pushes/s`);
}
