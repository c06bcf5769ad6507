// `npm run compare -- 02 03 [--scenario contention] [tester options]`: runs
// one scenario (contention unless --scenario says otherwise) against several
// steps, one after the other, and prints one table with a column per step.
// The tester's options apply (tester/options.ts, COMPARE_OPTIONS), except
// those that choose the server: the steps named do.
// Exit status: 0 if every step succeeded, 1 if one failed, 2 on error.
// It also writes a report page with the steps side by side (`--html` as for
// the tester: by default a new page in reports/; `--html off` for none).

import { parseOptions } from '../shared/cli/options.ts';
import { findStep } from '../shared/cli/steps.ts';
import { COMPARE_OPTIONS, TESTER_DEFAULTS } from './options.ts';
import { liveLine } from './progress.ts';
import { reportFooter, type TesterReport } from './report.ts';
import { comparisonTable } from './table.ts';
import { runTester } from './run.ts';
import { htmlFlagDefault, reportPagePath, writeReportPage } from './html/write.ts';
import { exitWhenOutputCloses } from '../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const usage = 'npm run compare -- STEP STEP... [--scenario NAME] [options] [--html [FILE]]';
const argv = htmlFlagDefault(process.argv.slice(2));
const { values, positionals } = parseOptions(COMPARE_OPTIONS, usage, argv);
if (positionals.length === 0) {
  console.error(`usage: ${usage}`);
  process.exit(2);
}
const scenario = values.scenario;
try {
  positionals.forEach((step) => findStep(step));
} catch (caught) {
  console.error(`error: ${(caught as Error).message}`);
  process.exit(2);
}

const progress = liveLine(process.stderr);
const reports: TesterReport[] = [];
for (const step of positionals) {
  console.error(`running ${scenario} against step ${step}...`);
  const report = await runTester({ ...TESTER_DEFAULTS, ...values, step, scenario }, { progress });
  if (report.error) console.error(`step ${step}: ${reportFooter(report)}`);
  reports.push(report);
}
if (values.json) {
  console.log(JSON.stringify(reports, null, 2));
} else {
  console.log(comparisonTable(positionals.map((step) => `step ${findStep(step).number}`), reports));
}
const page = reportPagePath(values.html, `compare-${positionals.join('-')}`);
if (page !== null) {
  const columns = positionals.map((step, i) => ({ heading: `step ${findStep(step).name}`, report: reports[i]! }));
  console.error(`report page: ${writeReportPage(page, columns, `compare: ${scenario} on steps ${positionals.join(', ')}`, `npm run compare -- ${argv.join(' ')}`)}`);
}
process.exitCode = Math.max(...reports.map((r) => r.exitCode));
