// `npm run tester -- [options]`: runs the scenarios against a server and says
// SUCCESS or FAIL. Exit status: 0 SUCCESS, 1 FAIL, 2 error or undecided.
//
//   npm run tester -- --step 02                  start step 02, run everything
//   npm run tester -- --port 65432 --scenario contention
//   npm run tester -- --step 03 --scenario load --duration 10 --json

import { parseOptions } from '../shared/cli/options.ts';
import { TESTER_OPTIONS } from './options.ts';
import { formatScenario, reportHeader, reportFooter } from './report.ts';
import { runTester } from './run.ts';
import { liveLine } from './progress.ts';
import { exitWhenOutputCloses } from '../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const { values: options } = parseOptions(TESTER_OPTIONS, 'npm run tester -- [--step NN | --host HOST --port PORT] [options]');

// Ctrl+C: stop the server we started (runTester's finally cannot run if we just die).
let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  console.error('\ninterrupted: stopping');
  process.exit(2); // launch.ts kills the servers it started on exit
});

const progress = liveLine(process.stderr);
const report = await runTester(options, {
  progress,
  onStart: options.json ? undefined : (started) => console.log(`${reportHeader(started)}\n`),
  // Print each scenario as it ends, so a long run shows results early.
  onScenario: options.json ? undefined : (result) => console.log(`${formatScenario(result)}\n`),
});
if (!interrupted) {
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(reportFooter(report));
  }
  process.exitCode = report.exitCode;
}
