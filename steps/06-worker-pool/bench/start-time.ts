// How long step 06 takes to start, the way its README starts it (`npm run
// step -- 06`), and where the time goes: from the spawn to the server's
// first log line (Node, and loading the code), to its `replayed` line (the
// logs read back), to its `worker processes` line (the worker processes
// started and their logs open), to `listening on` (the pool threads started
// too, the port open).
//
//   npx tsx steps/06-worker-pool/bench/start-time.ts [RUNS] [--data-dir DIR] [--before DIR]
//
// --data-dir: start on a copy of these logs (each start gets its own copy)
// instead of an empty folder. --before: the same, in turns, for the checkout
// in DIR (a copy of an earlier commit with node_modules linked in): an A/B
// of a change. With RUNS > 1, medians.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../../../shared/cli/steps.ts';
import { median, startByNpm, type Phases } from './servers.ts';
import { stepLine } from '../../../tester/progress.ts';

const option = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const runs = Number(process.argv.slice(2).find((arg, i, all) => /^\d+$/.test(arg) && !all[i - 1]?.startsWith('--')) ?? 1);
const logs = option('--data-dir');
const before = option('--before');
const checkouts = [['step 06', ROOT], ...(before === undefined ? [] : [['step 06 before', path.resolve(before)]])] as const;

/** Starts `npm run step -- 06` in `checkout` on a fresh folder (a copy of `logs`), times its phases, shuts it down. */
async function startOnce(checkout: string): Promise<Phases> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kv-start-'));
  if (logs !== undefined) cpSync(logs, dataDir, { recursive: true });
  const server = await startByNpm(checkout, dataDir);
  await server.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
  return server.phases;
}

const all: Record<string, Phases[]> = {};
const row = (name: string, p: Phases) => `${name.padEnd(15)} code loaded ${String(p.code).padStart(5)} ms   replayed ${String(p.replayed).padStart(5)} ms   ` +
  `worker processes ${String(p.workers).padStart(5)} ms   listening ${String(p.listening).padStart(5)} ms`;
console.log(`npm run step -- 06 on ${logs === undefined ? 'an empty folder' : `a copy of ${logs}`}: ms from the spawn to each line of its log`);
const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
for (let run = 1; run <= runs; run++) {
  // Alternate which goes first: the machine's state drifts.
  const order = run % 2 === 1 ? checkouts : [...checkouts].reverse();
  for (const [name, checkout] of order) {
    line.step(`run ${run}/${runs}: starting ${name}`);
    const phases = await startOnce(checkout);
    line.clear();
    (all[name] ??= []).push(phases);
    console.log(`run ${run} ${row(name, phases)}`);
  }
}
if (runs > 1) {
  console.log(`median of ${runs} runs:`);
  for (const [name] of checkouts) {
    const list = all[name]!;
    const m = (key: keyof Phases) => median(list.map((p) => p[key]));
    console.log(`median ${row(name, { code: m('code'), replayed: m('replayed'), workers: m('workers'), listening: m('listening') })}`);
  }
}
