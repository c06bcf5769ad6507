// `npm run step -- 03 [server options]`: runs one step's server in this
// process's place, passing the options on (try `npm run step -- 03 --help`).

import { spawnSync } from 'node:child_process';
import { findStep, listSteps } from '../../shared/cli/steps.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';
import { serverArgv } from './server-command.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const [name, ...serverArgs] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  console.log(`usage: npm run step -- STEP [server options]\nsteps: ${listSteps().map((s) => s.name).join(', ')}`);
  process.exit(name === undefined ? 2 : 0);
}
let server: string;
let step: string;
try {
  ({ server, name: step } = findStep(name));
} catch (caught) {
  console.error(`error: ${(caught as Error).message}`);
  process.exit(2);
}
// The server gets the terminal (Ctrl+C reaches it directly) and its exit code is ours.
// MALLOC_MMAP_THRESHOLD_: glibc then gives every freed block of 128 KB or
// more straight back to the system. Without it, glibc raises that threshold
// each time such a block is freed, and step 06's freed big values stay in the
// process's memory (see step 06's README: 10 values of 10 MB deleted, RSS
// back to within 5 MB of the start with it, 110 MB above without).
const env = { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env };
// Ctrl+C signals the server too (the terminal signals the whole group):
// this process waits for its graceful shutdown instead of ending first.
process.on('SIGINT', () => {});
const result = spawnSync(process.execPath, [...serverArgv(step, server), ...serverArgs], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
