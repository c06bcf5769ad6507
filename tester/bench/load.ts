// `npm run bench [-- tester options]`: the load scenario against every step
// that exists, one after the other (never at the same time: they would share
// the 2 cores), and one table. Options go to the load scenario, for example
// `npm run bench -- --duration 10 --pipeline 16 --load-clients 20`.
//
// The load client is Node on the same cores as the server: against step 01
// it reached [about 30,000](docs/figures.md#node-load-client-ops) requests/s.
// For more, see redis-benchmark in tester/README.md.

import { existsSync } from 'node:fs';
import { parseOptions } from '../../shared/cli/options.ts';
import { listSteps } from '../../shared/cli/steps.ts';
import { TESTER_OPTIONS } from '../options.ts';
import { liveLine } from '../progress.ts';
import { reportFooter, type TesterReport } from '../report.ts';
import { comparisonTable } from '../table.ts';
import { runTester } from '../run.ts';
import { htmlFlagDefault, reportPagePath, writeReportPage } from '../html/write.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const argv = htmlFlagDefault(process.argv.slice(2));
const { values } = parseOptions(TESTER_OPTIONS, 'npm run bench -- [load options]', argv);
// A step being written may have a folder but no server yet.
const steps = listSteps().filter((step) => existsSync(step.server));
const progress = liveLine(process.stderr);
const reports: TesterReport[] = [];
for (const step of steps) {
  console.error(`load against step ${step.name}...`);
  const report = await runTester({ ...values, step: step.number, scenario: 'load' }, { progress });
  if (report.error) console.error(`step ${step.name}: ${reportFooter(report)}`);
  reports.push(report);
}
if (values.json) {
  console.log(JSON.stringify(reports, null, 2));
} else {
  console.log(comparisonTable(steps.map((step) => `step ${step.number}`), reports));
}
// The page (reports/ unless --html says otherwise): every step's load charts side by side.
const page = reportPagePath(values.html, 'bench');
if (page !== null) {
  const columns = steps.map((step, i) => ({ heading: `step ${step.name}`, report: reports[i]! }));
  console.error(`report page: ${writeReportPage(page, columns, 'bench: the load scenario against every step', `npm run bench -- ${argv.join(' ')}`)}`);
}
process.exitCode = Math.max(...reports.map((r) => r.exitCode));
