import { formatTable, type TesterReport } from './report.ts';
import { raceWindowNote } from './scenarios/load.ts';
import { wrap } from './wrap.ts';

// One table, one column per run: the verdict of each scenario, its figures,
// and the kinds of anomaly seen; under it, a note for each load figure that a
// race window inside a lock capped (step 03), wrapped to the report's 100
// columns (wrap.ts). Used by compare and bench.

export function comparisonTable(columns: string[], reports: TesterReport[]): string {
  const rows: string[][] = [];
  const names = [...new Set(reports.flatMap((r) => r.scenarios.map((s) => s.name)))];
  for (const name of names) {
    const scenarios = reports.map((r) => r.scenarios.find((s) => s.name === name));
    const label = (text: string) => (names.length > 1 ? `${name}: ${text}` : text);
    rows.push([label('verdict'), ...scenarios.map((s) => s?.verdict ?? 'ERROR')]);
    const figures = [...new Set(scenarios.flatMap((s) => Object.keys(s?.figures ?? {})))];
    for (const figure of figures) rows.push([label(figure), ...scenarios.map((s) => String(s?.figures[figure] ?? '-'))]);
    const kinds = [...new Set(scenarios.flatMap((s) => s?.anomalies.map((a) => a.kind) ?? []))];
    for (const kind of kinds) {
      rows.push([label(`anomaly: ${kind}`), ...scenarios.map((s) => String(s?.anomalies.find((a) => a.kind === kind)?.count ?? 0))]);
    }
  }
  rows.push(['RESULT', ...reports.map((r) => r.verdict)]);
  const notes = reports.flatMap((report, i) => {
    const window = report.scenarios.find((s) => s.name === 'load')?.figures['server race window'];
    const note = typeof window === 'string' ? raceWindowNote(columns[i]!, window) : null;
    return note === null ? [] : wrap(`note: ${note}`, '      ');
  });
  return [formatTable(['', ...columns], rows), ...notes].join('\n');
}
