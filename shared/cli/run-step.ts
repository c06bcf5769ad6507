// `npm run step -- 03 [server options]`: runs one step's server in this
// process's place, passing the options on (try `npm run step -- 03 --help`).

import { spawnSync } from 'node:child_process';
import { findStep, listSteps } from './steps.ts';
import { exitWhenOutputCloses } from './pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const [name, ...serverArgs] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h') {
  console.log(`usage: npm run step -- STEP [server options]\nsteps: ${listSteps().map((s) => s.name).join(', ')}`);
  process.exit(name === undefined ? 2 : 0);
}
let server: string;
try {
  server = findStep(name).server;
} catch (caught) {
  console.error(`error: ${(caught as Error).message}`);
  process.exit(2);
}
// The server gets the terminal (Ctrl+C reaches it directly) and its exit code is ours.
const result = spawnSync(process.execPath, ['--import', 'tsx', server, ...serverArgs], { stdio: 'inherit' });
process.exit(result.status ?? 1);
