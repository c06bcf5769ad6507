// `npm run test:step -- 03`: runs the tests of one step only (the files in
// steps/03-lock/ whose names end in .test.ts), with node's test runner. Every
// run ends: a test that hangs fails with a timeout (tester/harness/test-runner.ts).

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { testRunnerArgs } from '../harness/test-runner.ts';
import { findStep, listSteps } from '../../shared/cli/steps.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const [name, ...testArgs] = process.argv.slice(2);
if (name === undefined) {
  console.error(`usage: npm run test:step -- STEP\nsteps: ${listSteps().map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const step = findStep(name);
const files = readdirSync(step.dir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts'))
  .map((file) => path.join(step.dir, file))
  .sort();
if (files.length === 0) {
  console.error(`step ${step.name} has no tests yet`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [...testRunnerArgs(), ...testArgs, ...files], // bounded: a hanging test fails, see test-runner.ts
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
