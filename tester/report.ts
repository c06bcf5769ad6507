import type { KeyTimeline, Pictures } from './pictures.ts';
import { COLUMNS, displayWidth, wrap } from './wrap.ts';

// What a scenario finds, and how it is shown: to people (text, and the
// report page of html/page.ts) or to programs (--json).

export type Verdict = 'SUCCESS' | 'FAIL' | 'UNKNOWN';

/** One kind of anomaly, how often it happened, and a few examples. */
export interface Anomaly {
  kind: string;
  count: number;
  /** What it means, in plain words, once for the kind. */
  meaning: string;
  /**
   * Up to three concrete cases: which key, which clients, what each saw, what
   * was expected. The text report wraps a sample's lines that are wider than
   * SAMPLE_COLUMNS (prose); a timeline's lines are laid out to fit it.
   */
  samples: string[];
  /** The timelines of samples that have one (a key the checker found not linearizable), for the report page. */
  timelines?: KeyTimeline[];
}

export interface ScenarioResult {
  name: string;
  verdict: Verdict;
  /** What ran, in one line. */
  description: string;
  /** Figures in display order (also the rows of `compare`). */
  figures: Record<string, string | number>;
  /** More lines for people: a histogram, a note. */
  details: string[];
  anomalies: Anomaly[];
  /** Data for the report page's charts (load: latency, throughput, processes). */
  pictures?: Pictures;
}

export interface TesterReport {
  target: string;
  dialect: string;
  randomSeed: number;
  scenarios: ScenarioResult[];
  verdict: Verdict | 'ERROR';
  /** 0 SUCCESS, 1 FAIL, 2 error or undecided. */
  exitCode: 0 | 1 | 2;
  error?: string;
}

const MAX_SAMPLES = 3;

/** Collects anomalies by kind while a scenario runs. */
export class AnomalyLog {
  private readonly byKind = new Map<string, Anomaly>();

  /** Counts one anomaly; keeps its sample (and its timeline, if any) while fewer than three are kept. */
  add(kind: string, meaning: string, sample: string, timeline?: KeyTimeline): void {
    const anomaly = this.byKind.get(kind) ?? { kind, count: 0, meaning, samples: [] };
    anomaly.count++;
    if (anomaly.samples.length < MAX_SAMPLES) {
      anomaly.samples.push(sample);
      if (timeline) (anomaly.timelines ??= []).push(timeline);
    }
    this.byKind.set(kind, anomaly);
  }

  /** Whether the next anomaly of this kind keeps its sample (so that a costly timeline is worth making). */
  keepsSample(kind: string): boolean {
    return (this.byKind.get(kind)?.samples.length ?? 0) < MAX_SAMPLES;
  }

  count(kind: string): number {
    return this.byKind.get(kind)?.count ?? 0;
  }

  list(): Anomaly[] {
    return [...this.byKind.values()];
  }
}

/** FAIL beats UNKNOWN beats SUCCESS. */
export function combine(verdicts: Verdict[]): Verdict {
  if (verdicts.includes('FAIL')) return 'FAIL';
  if (verdicts.includes('UNKNOWN')) return 'UNKNOWN';
  return 'SUCCESS';
}

export function exitCodeOf(verdict: Verdict | 'ERROR'): 0 | 1 | 2 {
  return verdict === 'SUCCESS' ? 0 : verdict === 'FAIL' ? 1 : 2;
}

/** What a line of a sample may fill: formatScenario indents it by 7 columns. */
export const SAMPLE_COLUMNS = COLUMNS - 7;

/**
 * A scenario for people, within COLUMNS: prose (the header, a meaning, a
 * sample's sentences) is wrapped at spaces, its later lines indented as its
 * paragraph is; the lines that are laid out to fit (figures, histograms,
 * timelines) come out as they are.
 */
export function formatScenario(result: ScenarioResult): string {
  const lines = wrap(`== ${result.name}: ${result.description}`, '   ');
  const width = Math.max(...Object.keys(result.figures).map((label) => label.length));
  for (const [label, value] of Object.entries(result.figures)) {
    lines.push(...wrap(`   ${label.padEnd(width)}  ${value}`, ' '.repeat(width + 5)));
  }
  for (const line of result.details) lines.push(...wrap(`   ${line}`, /^ */.exec(`   ${line}`)![0]));
  for (const anomaly of result.anomalies) {
    lines.push('', ...wrap(`   ${anomaly.kind} (${anomaly.count}x): ${anomaly.meaning}`, '   '));
    for (const sample of anomaly.samples) {
      sample.split('\n').forEach((line, i) => lines.push(...wrap(`${i === 0 ? '     - ' : '       '}${line}`, '       ')));
    }
  }
  lines.push(`   ${result.verdict}`);
  return lines.map((line) => line.trimEnd()).join('\n');
}

/** `tester: TARGET, dialect D, random seed N`, or on two lines if that is wider than COLUMNS. */
export function reportHeader(report: TesterReport): string {
  const target = `tester: ${report.target}`;
  const run = `dialect ${report.dialect}, random seed ${report.randomSeed}`;
  if (displayWidth(`${target}, ${run}`) <= COLUMNS) return `${target}, ${run}`;
  return [...wrap(target, '        '), `        ${run}`].join('\n');
}

/** The last lines: an error if any, then the overall result. */
export function reportFooter(report: TesterReport): string {
  const lines = report.error ? wrap(`error: ${report.error}`, '       ') : [];
  const failed = report.scenarios.filter((s) => s.verdict !== 'SUCCESS').map((s) => `${s.name} ${s.verdict}`);
  lines.push(...wrap(`RESULT: ${report.verdict}${failed.length > 0 ? ` (${failed.join(', ')})` : ''}`, '        '));
  return lines.join('\n');
}

export function formatReport(report: TesterReport): string {
  return [reportHeader(report), '', ...report.scenarios.flatMap((s) => [formatScenario(s), '']), reportFooter(report)].join('\n');
}

/**
 * A table with a header row, columns padded to fit (for compare and bench).
 * A table wider than COLUMNS gets its first column (the labels) narrowed to
 * what is left, and a label too long for it goes on, indented, on the lines
 * below its row's values.
 */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const others = widths.slice(1).reduce((sum, w) => sum + 2 + w, 0);
  widths[0] = Math.min(widths[0]!, Math.max(COLUMNS - others, 16));
  const line = (cells: string[]) => {
    const [label = '', ...more] = wrap(cells[0] ?? '', '  ', widths[0]);
    const values = cells.slice(1).map((cell, i) => `  ${cell.padStart(widths[i + 1]!)}`).join('');
    return [`${label.padEnd(widths[0]!)}${values}`, ...more].join('\n');
  };
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
