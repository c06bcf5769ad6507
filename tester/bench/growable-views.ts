// How fast a TypedArray over a growable SharedArrayBuffer reads, by kind of
// view (why growable-store.ts keeps views of a fixed length and remakes them
// when the arena grows).
//
//   npx tsx tester/bench/growable-views.ts
//
// 10^7 reads of Int32 words through each view; the best of 8 rounds, in ns
// per read.

import { stepLine } from '../progress.ts';

const growable = new SharedArrayBuffer(1 << 20, { maxByteLength: 2 ** 32 });
const plain = new SharedArrayBuffer(1 << 20);
const views: Record<string, Int32Array> = {
  'growable buffer, view that tracks its length': new Int32Array(growable),
  'growable buffer, view of a fixed length': new Int32Array(growable, 0, (1 << 20) / 4),
  'plain SharedArrayBuffer': new Int32Array(plain),
};

function readAll(view: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < 1e7; i++) sum += view[(i * 7) & 4095]!;
  return sum;
}

const best: Record<string, number> = {};
// The reads block the event loop: the progress line (on stderr) is drawn at each step.
const line = stepLine();
for (let round = 0; round < 8; round++) {
  for (const [name, view] of Object.entries(views)) {
    line.step(`round ${round + 1}/8: ${name}`);
    const started = performance.now();
    readAll(view);
    const ns = ((performance.now() - started) * 1e6) / 1e7;
    best[name] = Math.min(best[name] ?? Infinity, ns);
  }
}
line.clear();
for (const [name, ns] of Object.entries(best)) console.log(`${name.padEnd(46)} ${ns.toFixed(2)} ns per read`);
