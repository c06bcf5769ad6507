// `npm run exercise -- 01 append`: checks a student's answer to one exercise by
// running its check (steps/01-tcp/exercises/append.check.ts) with node's test
// runner. A check fails until the exercise is done. `npm run exercise -- 01`
// lists the step's exercises.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { TEST_FILE_TIMEOUT_MS, testRunnerArgs } from '../harness/test-runner.ts';
import { runWithProgress } from './run-with-progress.ts';
import { findStep } from '../../shared/cli/steps.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const [stepName, exercise] = process.argv.slice(2);
if (stepName === undefined) {
  console.error('usage: npm run exercise -- STEP [NAME]');
  process.exit(2);
}
let step: ReturnType<typeof findStep>;
try {
  step = findStep(stepName);
} catch (caught) {
  console.error(`error: ${(caught as Error).message}`);
  process.exit(2);
}
const dir = path.join(step.dir, 'exercises');
const checks = existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.check.ts')).sort() : [];

if (exercise === undefined) {
  console.log(`exercises of step ${step.name}:`);
  for (const file of checks) {
    // The first comment line of each check says what it checks.
    const firstLine = readFileSync(path.join(dir, file), 'utf8').split('\n')[0]!.replace(/^\/\/\s*/, '');
    console.log(`  ${file.replace('.check.ts', '').padEnd(20)} ${firstLine}`);
  }
  process.exit(0);
}
const file = path.join(dir, `${exercise}.check.ts`);
if (!existsSync(file)) {
  console.error(`no exercise '${exercise}' in step ${step.name}; try: npm run exercise -- ${step.number}`);
  process.exit(2);
}
// Bounded (tester/harness/test-runner.ts): a check that hangs fails with a
// timeout, and the servers it started stop with its process.
// A progress line shows while the check runs quietly (run-with-progress.ts);
// past the runner's own limit, the check is killed (its servers stop with it).
const result = await runWithProgress(`exercise ${exercise}`, process.execPath, [...testRunnerArgs(), file], {
  timeoutMs: TEST_FILE_TIMEOUT_MS + 30_000,
});
if (result.timedOut) console.log(`\nexercise ${exercise}: the check ran past ${(TEST_FILE_TIMEOUT_MS + 30_000) / 1000} s and was stopped`);
console.log(result.status === 0 ? `\nexercise ${exercise}: DONE` : `\nexercise ${exercise}: not yet (see the failures above)`);
process.exit(result.status ?? 1);
