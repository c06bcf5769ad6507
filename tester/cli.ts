// `npm run tester -- [options]`: runs the scenarios against a server and says
// SUCCESS or FAIL. Exit status: 0 SUCCESS, 1 FAIL, 2 error or undecided.
//
//   npm run tester -- --step 02                  start step 02, run everything
//   npm run tester -- --port 65432 --scenario contention
//   npm run tester -- --step 03 --scenario load --duration 10 --json
//   npm run tester -- --step 02 --html report.html   the report page there
//
// Every run also writes a report page (html/page.ts), by default a new one in
// reports/, and prints where (on stderr); `--html off` writes none.

import { parseOptions } from '../shared/cli/options.ts';
import { TESTER_OPTIONS } from './options.ts';
import { formatScenario, reportHeader, reportFooter } from './report.ts';
import { runTester } from './run.ts';
import { liveLine } from './progress.ts';
import { htmlFlagDefault, reportPagePath, writeReportPage } from './html/write.ts';
import { exitWhenOutputCloses } from '../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const argv = htmlFlagDefault(process.argv.slice(2));
const { values: options } = parseOptions(TESTER_OPTIONS, 'npm run tester -- [--step NN | --host HOST --port PORT] [options]', argv);

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
  const label = options.step !== '' ? `step-${options.step}` : options.server !== '' ? String(options.server).replace(/^.*\//, '').replace(/\.ts$/, '')
    : report.target.startsWith('redis-server:') ? 'redis-server' : `${options.host}-${options.port}`; // (redis-server: the replication scenario's)
  const page = reportPagePath(options.html, label);
  if (page !== null) {
    const heading = report.target.replace(/ at \S+ \(started by the tester\)$/, '');
    console.error(`report page: ${writeReportPage(page, [{ heading, report }], `tester report: ${heading}`, `npm run tester -- ${argv.join(' ')}`)}`);
  }
  process.exitCode = report.exitCode;
}
