import type { Anomaly, ScenarioResult, TesterReport } from '../report.ts';
import type { FaultBand, KeyTimeline, LatencyHistogram, ProcessSeries, Throughput, TimelineOperation } from '../pictures.ts';

// The report page: one self-contained HTML file (no network, no library, no
// framework), every picture hand-drawn SVG, made here in Node. A few lines of
// inline script only scroll each timeline to the operation that cannot be
// placed, show one figure alone (`page.html#only=ID`, for the screenshots of
// the docs), and record on <html> how long the page took to be parsed and
// laid out, from the start of navigation (data-drawn-ms; data-frame-ms at the
// next frame) and any error it met (data-errors): the test and the benchmark
// read them through headless Chromium.
//
// A page shows one report, or several side by side (npm run compare --html):
// for each scenario its verdict, figures and anomalies; for each anomaly with
// a timeline, the key's operations as boxes (a lane per client) with the
// longest linearization drawn through them and the operation that cannot be
// placed outlined, above the checker's sentence, and the faults made meanwhile
// (the replication scenario) as bands behind them; for the load scenario the
// latency histogram, the throughput over time and the CPU and memory of each
// server process. Side by side, a scenario's charts share their scales
// (sharedScales): the same buckets, seconds and heights in every column.

export interface PageColumn {
  /** `step 02`, or the target of a single run. */
  heading: string;
  report: TesterReport;
}

export interface PageOptions {
  title: string;
  /** The command that made the report, shown at the top. */
  command: string;
  /** When the report was made (shown as is). */
  generatedAt: string;
}

/** The whole page, as one string of HTML. */
export function renderPage(columns: PageColumn[], options: PageOptions): string {
  let id = 0;
  const ids = { next: (prefix: string) => `${prefix}-${++id}` };
  const scales = sharedScales(columns);
  const body = columns.map((column) => renderColumn(column, ids, scales)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)}</title>
<script>${EARLY_SCRIPT}</script>
<style>${STYLE}</style>
</head>
<body>
<header id="page-header">
<h1>${esc(options.title)}</h1>
<p class="command"><code>${esc(options.command)}</code> &middot; ${esc(options.generatedAt)}</p>
</header>
<main class="columns" style="grid-template-columns: repeat(${columns.length}, minmax(0, 1fr))">
${body}
</main>
<script>${LATE_SCRIPT}</script>
</body>
</html>
`;
}

interface Ids {
  next(prefix: string): string;
}

function renderColumn({ heading, report }: PageColumn, ids: Ids, scales: Map<string, Scales>): string {
  const parts = [
    `<section class="column">`,
    `<h2>${esc(heading)} ${badge(report.verdict)}</h2>`,
    `<p class="target">${esc(report.target)}, dialect ${esc(report.dialect)}, random seed ${report.randomSeed}</p>`,
  ];
  if (report.error) parts.push(`<p class="error">error: ${esc(report.error)}</p>`);
  for (const scenario of report.scenarios) parts.push(renderScenario(scenario, ids, scales.get(scenario.name) ?? {}));
  parts.push('</section>');
  return parts.join('\n');
}

function renderScenario(scenario: ScenarioResult, ids: Ids, scales: Scales): string {
  const id = ids.next(`scenario-${scenario.name}`);
  const figures = Object.entries(scenario.figures)
    .map(([label, value]) => `<tr><th>${esc(label)}</th><td>${esc(String(value))}</td></tr>`).join('');
  const parts = [
    `<article class="scenario" id="${id}" data-scenario="${esc(scenario.name)}" data-verdict="${scenario.verdict}">`,
    `<h3>${esc(scenario.name)} ${badge(scenario.verdict)}</h3>`,
    `<p>${esc(scenario.description)}</p>`,
    `<table class="figures">${figures}</table>`,
  ];
  const pictures = scenario.pictures;
  if (pictures?.latency) parts.push(figure(ids.next('latency'), 'Latency histogram', latencyChart(pictures.latency, scales.latency)));
  if (pictures?.throughput) {
    parts.push(figure(ids.next('throughput'), 'Throughput over time', throughputChart(pictures.throughput, scales.throughput)));
  }
  if (pictures?.processes && pictures.processes.times.length > 1) {
    parts.push(figure(ids.next('processes'), 'CPU and memory of the server\'s processes', processCharts(pictures.processes, scales.cpu, scales.memory)));
  }
  for (const anomaly of scenario.anomalies) parts.push(renderAnomaly(anomaly, ids));
  parts.push('</article>');
  return parts.join('\n');
}

function renderAnomaly(anomaly: Anomaly, ids: Ids): string {
  const parts = [
    `<div class="anomaly" id="${ids.next('anomaly')}" data-kind="${esc(anomaly.kind)}">`,
    `<h4>${esc(anomaly.kind)} <span class="count">${anomaly.count}&times;</span></h4>`,
    `<p class="meaning">${esc(anomaly.meaning)}</p>`,
  ];
  anomaly.samples.forEach((sample, i) => {
    const timeline = anomaly.timelines?.[i];
    // A linearizability sample's text holds the sentence and a text timeline; the page draws both.
    const text = timeline && sample.startsWith(timeline.sentence) ? '' : `<pre class="sample">${esc(sample)}</pre>`;
    parts.push(timeline ? figure(ids.next('timeline'), `${anomaly.kind} on key ${timeline.key}`, text + timelineFigure(timeline))
      : text);
  });
  // Kinds whose samples come without a timeline (contention's final state) still show their samples above.
  parts.push('</div>');
  return parts.join('\n');
}

function figure(id: string, caption: string, content: string): string {
  return `<figure id="${id}"><figcaption>${esc(caption)}</figcaption>${content}</figure>`;
}

function badge(verdict: string): string {
  return `<span class="verdict verdict-${verdict.toLowerCase()}">${esc(verdict)}</span>`;
}

// ------------------------------------------------------------------ timeline

/** The legend: one entry per colour (ALREADY_EXISTS and NOT_FOUND share one). */
const LEGEND: Array<[TimelineOperation['outcome'], string]> = [
  ['ok', 'OK'], ['exists', 'ALREADY_EXISTS or NOT_FOUND'], ['value', 'read a value'],
  ['integer', 'INCR result'], ['error', 'error reply'], ['noreply', 'no reply'],
];

const LANE_HEIGHT = 40;
const BOX_HEIGHT = 30;
/** Above the boxes of the marked operation's lane: a band for its callout, so that it covers nothing. */
const CALLOUT_ROOM = 16;
const LANE_LABELS_WIDTH = 70;
/** A generous width of one character of a box's label (11px), so that a label that is meant to fit does. */
const LABEL_CHAR_WIDTH = 6.8;
/** Room inside a box around its label: 4px on the left, the rest on the right. */
const LABEL_PADDING = 10;
/** Up to this many operations on a timeline, every box is made wide enough for its whole label. */
const ALL_LABELS_UP_TO = 40;
/** A generous width of one character of the callout (11px, bold), to make room for it. */
const CALLOUT_CHAR_WIDTH = 7.5;
/** The height of one fault's label line under the lanes. */
const FAULT_LINE = 15;
/** A generous width of one character of a fault's label (11px). */
const FAULT_CHAR_WIDTH = 6.5;

/**
 * The key's operations on an axis of event order: every send and every reply
 * is one step, in the order they happened, so that two boxes overlap exactly
 * when the operations were in flight together (the times themselves are in
 * the tooltips). A step is as wide as the boxes that end there need for their
 * labels: every box of a short timeline, and on a long one the marked
 * operation and those its sentence names, shows its whole label; any other
 * label that does not fit is shortened with an ellipsis (whole in the
 * tooltip). No text covers another: the order numbers sit in the top half of
 * a box, its label in the bottom half (over the linearization's line), the callout in a band of its own above
 * the marked box's lane, and the faults' labels on lines of their own under
 * the lanes, where no fault's line crosses them.
 */
function timelineFigure(timeline: KeyTimeline): string {
  const ops = timeline.operations;
  const events: Array<{ time: number; op: number; call: boolean }> = [];
  ops.forEach((op, i) => {
    events.push({ time: op.sentAt, op: i, call: true });
    events.push({ time: op.answeredAt ?? Infinity, op: i, call: false });
  });
  // As the checker sorts them: at equal times, sends first.
  events.sort((a, b) => a.time - b.time || (a.call === b.call ? 0 : a.call ? -1 : 1));
  const step = Math.max(12, Math.min(90, Math.floor(900 / events.length)));
  const shortCommand = (command: string) => command.replace(` ${timeline.key}`, '');
  const labels = ops.map((op) => `${shortCommand(op.command)} → ${op.reply}`);
  const named = (op: TimelineOperation, i: number) =>
    ops.length <= ALL_LABELS_UP_TO || i === timeline.stuck || timeline.sentence.includes(`client ${op.client}'s ${op.command}`);
  const need = ops.map((op, i) => (named(op, i) ? labels[i]!.length * LABEL_CHAR_WIDTH + LABEL_PADDING : 0));
  // Each event one step after the one before, or further when a box ending there needs the room.
  const callX = new Array<number>(ops.length);
  const replyX = new Array<number>(ops.length);
  let x = 10 - step;
  for (const event of events) {
    x += step;
    if (event.call) callX[event.op] = x;
    else {
      x = Math.max(x, callX[event.op]! + need[event.op]! - step * 0.8);
      replyX[event.op] = x + step * 0.8;
    }
  }
  const clients = [...new Set(ops.map((op) => op.client))].sort((a, b) => a - b);
  const stuckOp = ops[timeline.stuck]!;
  const top = 24; // room for the axis note
  const laneTop = new Map<number, number>();
  const laneHeight = (client: number) => LANE_HEIGHT + (client === stuckOp.client ? CALLOUT_ROOM : 0);
  let y = top;
  for (const client of clients) {
    laneTop.set(client, y);
    y += laneHeight(client);
  }
  const lanesBottom = y;
  const boxY = (client: number) => laneTop.get(client)! + laneHeight(client) - LANE_HEIGHT + (LANE_HEIGHT - BOX_HEIGHT) / 2;
  const eventsWidth = x + step + 30;
  const faults = timeline.faults ?? [];
  // Under the lanes, one line per fault for its label.
  const height = lanesBottom + 8 + faults.length * FAULT_LINE;
  const stuckX = callX[timeline.stuck]!;
  // In the band above the marked box, on a white halo; with the box's whole label, as the sentence names it.
  const callout = `cannot be placed: ${labels[timeline.stuck]}`;
  // A fault's x: just before the first event at or after its time.
  const xAt = (time: number) => {
    const next = events.findIndex((event) => event.time >= time);
    return (next < 0 ? x + step : next === 0 ? 10 : Math.min(eventX(next), eventX(next - 1) + step)) - 2;
  };
  function eventX(rank: number): number {
    const event = events[rank]!;
    return event.call ? callX[event.op]! : replyX[event.op]! - step * 0.8;
  }
  // A fault that ended says what ended it: `primary SIGSTOPped (pid 12) until SIGCONT`.
  const faultLabel = (fault: FaultBand) =>
    (fault.endedBy !== undefined && fault.to !== null && fault.to !== fault.from ? `${fault.label} until ${fault.endedBy}` : fault.label);
  const width = Math.ceil(Math.max(eventsWidth, stuckX + callout.length * CALLOUT_CHAR_WIDTH + 10,
    ...faults.map((fault) => xAt(fault.from) + faultLabel(fault).length * FAULT_CHAR_WIDTH + 10)));

  const lanes = clients.map((client) =>
    `<g class="lane" data-client="${client}"><rect class="lane-bg" x="0" y="${laneTop.get(client)}" width="${width}" height="${laneHeight(client)}"/></g>`).join('');
  // The lanes' names stay in view while the timeline scrolls: a column of their own.
  const laneNames = clients.map((client) => {
    const y = boxY(client);
    return `<g class="lane"><rect class="lane-bg" x="0" y="${laneTop.get(client)}" width="${LANE_LABELS_WIDTH}" height="${laneHeight(client)}"/>` +
      `<text class="lane-label" x="6" y="${y + BOX_HEIGHT / 2 + 4}">client ${client}</text></g>`;
  }).join('');

  const boxes = ops.map((op, i) => {
    const x = callX[i]!;
    const w = Math.max(replyX[i]! - x, step * 0.8);
    const y = boxY(op.client);
    const stuck = i === timeline.stuck;
    const tip = `client ${op.client}: ${op.command} → ${op.reply}\nsent at ${ms(op.sentAt)}, ` +
      `${op.answeredAt === null ? 'never answered' : `answered at ${ms(op.answeredAt)}`}` +
      (stuck ? `\ncannot be placed: ${timeline.sentence}` : '');
    return `<g class="op outcome-${op.outcome}${stuck ? ' stuck' : ''}" data-client="${op.client}"${stuck ? ' data-stuck="true"' : ''} data-op="${i}">` +
      `<title>${esc(tip)}</title><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BOX_HEIGHT}" rx="3"/></g>`;
  }).join('');
  // The boxes' labels, over the linearization's line, on a halo of their box's colour: the line passes under them.
  const boxLabels = ops.map((op, i) => {
    const w = Math.max(replyX[i]! - callX[i]!, step * 0.8);
    const label = fitted(labels[i]!, w);
    return label === '' ? ''
      : `<text class="op-label outcome-${op.outcome}" data-op="${i}" x="${(callX[i]! + 4).toFixed(1)}" y="${boxY(op.client) + BOX_HEIGHT - 6}">${esc(label)}</text>`;
  }).join('');

  // The linearization: a point in the top half of each box, in the order
  // found, each at or after the one before (always possible: the order
  // respects real time), its number beside it.
  let previous = -Infinity;
  const points = timeline.linearization.map((i) => {
    const lo = callX[i]! + 3;
    const hi = Math.max(lo, Math.max(replyX[i]!, callX[i]! + step * 0.8) - 3);
    const x = Math.min(Math.max(previous + 2, lo), hi);
    previous = x;
    return { x, y: boxY(ops[i]!.client) + 8, i };
  });
  const path = points.length > 1 ? `<polyline class="linearization" points="${points.map((p) => `${p.x.toFixed(1)},${p.y}`).join(' ')}"/>` : '';
  const dots = points.map((p, n) => `<g class="lin-point"><title>${
    esc(`#${timeline.linearizedBefore + n + 1} in the longest order that works: ${ops[p.i]!.command} → ${ops[p.i]!.reply}`)}</title>` +
    `<circle cx="${p.x.toFixed(1)}" cy="${p.y}" r="3.5"/>` +
    (points.length <= 60 ? `<text x="${(p.x + 5).toFixed(1)}" y="${p.y + 3}">${timeline.linearizedBefore + n + 1}</text>` : '') + '</g>').join('');

  const marker = `<text class="stuck-label" x="${stuckX.toFixed(1)}" y="${laneTop.get(stuckOp.client)! + CALLOUT_ROOM - 3}">${esc(callout)}</text>`;
  const axis = `<text class="axis-note" x="10" y="14">order of events (each send and each reply is one step) &rarr;</text>`;

  // A fault is a band behind the boxes' lanes, from the event it came before
  // to the one it ended before (null: to the end); a fault of one moment is a
  // line. Its label goes on a line of its own under the lanes, a thin line
  // down to it from the band's left edge: the rightmost fault's label on the
  // first line, so that no line down to a label crosses the labels above it.
  const rows = faults.map((fault, i) => ({ fault, i, x: xAt(fault.from) }))
    .sort((a, b) => b.x - a.x || b.i - a.i);
  const bands = rows.map(({ fault, x }, row) => {
    const w = fault.to === null ? width - x : Math.max(xAt(fault.to) - x, 0);
    const labelY = lanesBottom + (row + 1) * FAULT_LINE;
    const when = `from ${ms(fault.from)}${fault.to === null ? ' to the end' : fault.to === fault.from ? '' : ` to ${ms(fault.to)}`}`;
    return `<g class="fault${w === 0 ? ' fault-moment' : ''}"><title>${esc(`${faultLabel(fault)}, ${when}`)}</title>` +
      (w === 0 ? `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${lanesBottom}"/>`
        : `<rect x="${x.toFixed(1)}" y="${top}" width="${w.toFixed(1)}" height="${lanesBottom - top}"/>`) +
      `<line class="fault-leader" x1="${x.toFixed(1)}" y1="${lanesBottom}" x2="${x.toFixed(1)}" y2="${labelY - 4}"/>` +
      `<text x="${(x + 3).toFixed(1)}" y="${labelY}">${esc(faultLabel(fault))}</text></g>`;
  }).join('');

  const svg = `<svg class="timeline" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `aria-label="${esc(`timeline of key ${timeline.key}`)}">${axis}${lanes}${bands}${boxes}${path}${boxLabels}${dots}${marker}</svg>`;
  const state = timeline.stateAfter === null ? 'absent' : JSON.stringify(timeline.stateAfter);
  const shown = timeline.operations.length < timeline.total ? ` (${timeline.operations.length} of the ${timeline.total} on the key drawn: those sent closest to the marked one)` : '';
  const labelColumn = `<svg class="lane-labels" width="${LANE_LABELS_WIDTH}" height="${height}" viewBox="0 0 ${LANE_LABELS_WIDTH} ${height}">${laneNames}</svg>`;
  return `<div class="timeline-box">${labelColumn}<div class="timeline-scroll" tabindex="0" aria-label="${esc(`timeline of key ${timeline.key}, scrolls sideways`)}" data-focus="${Math.round(stuckX)}">${svg}</div></div>` +
    `<p class="legend">${legend()}${faults.length > 0 ? ' <span class="swatch fault"><svg width="14" height="12"><rect width="14" height="12"/></svg> a fault, while it lasted</span>' : ''}</p>` +
    `<p class="legend">The line joins the longest order of these operations that agrees with every reply ` +
    `(${timeline.linearizedBefore + timeline.linearization.length} of ${timeline.total} operations${shown}); after it the key is ${esc(state)}.</p>` +
    `<p class="sentence"><strong>Cannot be placed:</strong> ${esc(timeline.sentence)}</p>`;
}

/** `label` if it fits a box `width` wide, else as much of it as fits and an ellipsis; '' if not even a little fits. */
function fitted(label: string, width: number): string {
  const room = Math.floor((width - LABEL_PADDING) / LABEL_CHAR_WIDTH + 1e-6);
  if (label.length <= room) return label;
  return room >= 4 ? `${label.slice(0, room - 1)}…` : '';
}

function legend(): string {
  return LEGEND.map(([kind, name]) =>
    `<span class="swatch outcome-${kind}"><svg width="14" height="12"><rect width="14" height="12" rx="2"/></svg> ${esc(name)}</span>`).join(' ') +
    ' <span class="swatch stuck"><svg width="14" height="12"><rect width="14" height="12" rx="2"/></svg> cannot be placed</span>';
}

// -------------------------------------------------------------------- charts

interface Series {
  label: string;
  colour: string;
  /** [x, y]; a null y breaks the line. */
  points: Array<[number, number | null]>;
}

/** A generous width of one character of a tick label (10px), to tell whether labels fit side by side. */
const TICK_CHAR_WIDTH = 6;

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

function latencyChart(histogram: LatencyHistogram, scale?: LatencyScale): string {
  const own = latencyScale(histogram);
  if (own === null) return '<p>no operations</p>';
  const { first, last, topShare } = scale ?? own;
  const total = histogram.counts.reduce((a, b) => a + b, 0);
  const buckets = histogram.counts.slice(first, last + 1).map((count, i) => {
    const limit = histogram.limitsMs[first + i];
    const finite = typeof limit === 'number' && Number.isFinite(limit);
    const label = finite ? `< ${limit} ms` : `≥ ${histogram.limitsMs[histogram.limitsMs.length - 2]} ms`;
    return { label, share: (100 * count) / total, count };
  });
  const width = 560;
  const left = 46;
  const slot = (width - left - 10) / buckets.length;
  // The bucket labels side by side when each fits its slot, else turned 40°
  // (their ends under the bars): with up to 11 buckets, they never overlap.
  const longest = Math.max(...buckets.map((b) => b.label.length)) * TICK_CHAR_WIDTH;
  const turned = longest > slot - 4;
  const bottom = turned ? 30 + Math.ceil(longest * Math.sin((40 * Math.PI) / 180)) : 36;
  const height = 174 + bottom;
  const plotHeight = height - bottom - 14;
  const ticks = niceTicks(topShare);
  const yOf = (share: number) => 14 + plotHeight - (share / ticks[ticks.length - 1]!) * plotHeight;
  const bars = buckets.map((b, i) => {
    const x = left + i * slot + slot * 0.12;
    const y = yOf(b.share);
    return `<g class="bar"><title>${esc(`${b.label}: ${b.count} operations, ${b.share.toFixed(1)}%`)}</title>` +
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.76).toFixed(1)}" height="${(14 + plotHeight - y).toFixed(1)}"/>` +
      `<text class="bar-value" x="${(x + slot * 0.38).toFixed(1)}" y="${(y - 3).toFixed(1)}">${b.share.toFixed(1)}%</text>` +
      (turned
        ? `<text class="tick tick-turned" transform="translate(${(x + slot * 0.38 + 3).toFixed(1)} ${height - bottom + 10}) rotate(-40)">${esc(b.label)}</text></g>`
        : `<text class="tick" x="${(x + slot * 0.38).toFixed(1)}" y="${height - bottom + 14}">${esc(b.label)}</text></g>`);
  }).join('');
  const grid = ticks.map((t) => `<line class="grid" x1="${left}" x2="${width - 10}" y1="${yOf(t)}" y2="${yOf(t)}"/>` +
    `<text class="tick tick-y" x="${left - 4}" y="${yOf(t) + 4}">${t}%</text>`).join('');
  return `<svg class="chart histogram" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${grid}${bars}` +
    `<text class="axis-title" x="${(width + left) / 2}" y="${height - 4}">latency (from the write of a batch to its replies)</text></svg>`;
}

function throughputChart(series: Throughput, extent?: Extent): string {
  return lineChart([{ label: `ops/s in each ${series.intervalMs} ms`, colour: PALETTE[0]!, points: throughputPoints(series) }],
    'seconds', 'operations per second', extent);
}

function throughputPoints(series: Throughput): Array<[number, number]> {
  return series.counts.map((count, i): [number, number] => [((i + 1) * series.intervalMs) / 1000, (count * 1000) / series.intervalMs]);
}

function processCharts(series: ProcessSeries, cpuExtent?: Extent, memoryExtent?: Extent): string {
  const seconds = series.times.map((t) => t / 1000);
  const label = (p: ProcessSeries['processes'][number]) => `${p.role} (pid ${p.pid})`;
  const cpu = series.processes.map((p, i) => ({
    label: label(p), colour: PALETTE[i % PALETTE.length]!, points: p.cpuPercent.map((v, j): [number, number | null] => [seconds[j]!, v]),
  }));
  const rss = series.processes.map((p, i) => ({
    label: label(p), colour: PALETTE[i % PALETTE.length]!, points: p.rssMb.map((v, j): [number, number | null] => [seconds[j]!, v]),
  }));
  return `<div class="pair">${lineChart(cpu, 'seconds', 'CPU, % of one core', cpuExtent)}${lineChart(rss, 'seconds', 'resident memory, MB', memoryExtent)}</div>`;
}

/** `extent`: the largest x and y to make room for (the other columns' too), when larger than this chart's own. */
function lineChart(series: Series[], xTitle: string, yTitle: string, extent?: Extent): string {
  const width = 560;
  const height = 220;
  const left = 56;
  const right = 12;
  const top = 14;
  const bottom = 40;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.flatMap((p) => (p[1] === null ? [] : [p[1]])));
  const xMax = Math.max(1e-9, extent?.x ?? 0, ...xs);
  const yTicks = niceTicks(Math.max(1e-9, extent?.y ?? 0, ...ys));
  const yMax = yTicks[yTicks.length - 1]!;
  // The x axis ends at the last point (the end of the run), not at the next
  // round tick: round ticks up to it, and its own value at the end.
  const xTicks = xAxisTicks(xMax);
  const xOf = (x: number) => left + (x / xMax) * (width - left - right);
  const yOf = (y: number) => top + (height - top - bottom) - (y / yMax) * (height - top - bottom);
  const grid = yTicks.map((t) => `<line class="grid" x1="${left}" x2="${width - right}" y1="${yOf(t).toFixed(1)}" y2="${yOf(t).toFixed(1)}"/>` +
    `<text class="tick tick-y" x="${left - 4}" y="${(yOf(t) + 4).toFixed(1)}">${compact(t)}</text>`).join('') +
    xTicks.map((t) => `<text class="tick" x="${xOf(t).toFixed(1)}" y="${height - bottom + 14}">${compact(t)}</text>`).join('');
  const lines = series.map((s) => {
    const segments: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (y === null) segments.push([]);
      else segments[segments.length - 1]!.push(`${xOf(x).toFixed(1)},${yOf(y).toFixed(1)}`);
    }
    return `<g class="series"><title>${esc(s.label)}</title>${segments.filter((g) => g.length > 0).map((g) =>
      `<polyline fill="none" stroke="${s.colour}" stroke-width="1.8" points="${g.join(' ')}"/>`).join('')}</g>`;
  }).join('');
  const key = series.map((s) => `<span class="swatch"><svg width="14" height="4"><rect width="14" height="4" fill="${s.colour}"/></svg> ${esc(s.label)}</span>`).join(' ');
  return `<div class="chart-box"><svg class="chart line-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${grid}${lines}` +
    `<text class="axis-title" x="${(width + left) / 2}" y="${height - 6}">${esc(xTitle)}</text>` +
    `<text class="axis-title" transform="translate(12 ${(height - bottom) / 2 + top}) rotate(-90)">${esc(yTitle)}</text></svg>` +
    `<p class="legend">${key}</p></div>`;
}

// Side by side (npm run compare --html), a scenario's charts share their
// scales across the columns: the same latency buckets and the same top share,
// the same seconds and the same top rate, CPU and memory. Two steps' pictures
// are then compared by eye: a taller bar, a higher line is more.

/** The buckets drawn (first to last, indexes of the limits) and the top of the share axis, in %. */
interface LatencyScale {
  first: number;
  last: number;
  topShare: number;
}

/** The largest x and y a line chart must make room for. */
interface Extent {
  x: number;
  y: number;
}

interface Scales {
  latency?: LatencyScale;
  throughput?: Extent;
  cpu?: Extent;
  memory?: Extent;
}

function latencyScale(histogram: LatencyHistogram): LatencyScale | null {
  const first = histogram.counts.findIndex((c) => c > 0);
  if (first < 0) return null;
  const total = histogram.counts.reduce((a, b) => a + b, 0);
  return { first, last: histogram.counts.findLastIndex((c) => c > 0), topShare: (100 * Math.max(...histogram.counts)) / total };
}

function extentOf(points: Array<[number, number | null]>): Extent {
  return { x: Math.max(0, ...points.map((p) => p[0])), y: Math.max(0, ...points.flatMap((p) => (p[1] === null ? [] : [p[1]]))) };
}

function widest(a: Extent | undefined, b: Extent): Extent {
  return a === undefined ? b : { x: Math.max(a.x, b.x), y: Math.max(a.y, b.y) };
}

/** Per scenario name, the scales of its charts over every column (one column: its own). */
function sharedScales(columns: PageColumn[]): Map<string, Scales> {
  const scales = new Map<string, Scales>();
  // Buckets are shared only between histograms of the same limits (the load scenario's are always the same).
  const limits = new Map<string, string>();
  for (const { report } of columns) {
    for (const scenario of report.scenarios) {
      const pictures = scenario.pictures;
      if (!pictures) continue;
      const scale = scales.get(scenario.name) ?? {};
      scales.set(scenario.name, scale);
      const latency = pictures.latency ? latencyScale(pictures.latency) : null;
      if (latency !== null) {
        const key = JSON.stringify(pictures.latency!.limitsMs);
        const same = limits.get(scenario.name) ?? key;
        limits.set(scenario.name, same);
        scale.latency = scale.latency === undefined ? latency : same !== key ? scale.latency : {
          first: Math.min(scale.latency.first, latency.first),
          last: Math.max(scale.latency.last, latency.last),
          topShare: Math.max(scale.latency.topShare, latency.topShare),
        };
      }
      if (pictures.throughput) scale.throughput = widest(scale.throughput, extentOf(throughputPoints(pictures.throughput)));
      const processes = pictures.processes;
      if (processes && processes.times.length > 1) {
        const seconds = processes.times.map((t) => t / 1000);
        for (const p of processes.processes) {
          scale.cpu = widest(scale.cpu, extentOf(p.cpuPercent.map((v, j): [number, number | null] => [seconds[j]!, v])));
          scale.memory = widest(scale.memory, extentOf(p.rssMb.map((v, j): [number, number | null] => [seconds[j]!, v])));
        }
      }
    }
  }
  return scales;
}

/** Round ticks from 0 to at least `max`: 0, 10, 20... or 0, 2.5, 5... */
function niceTicks(max: number): number[] {
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const unit = [1, 2, 2.5, 5, 10].map((m) => m * power).find((u) => u >= rough)!;
  const ticks: number[] = [];
  // Up to the first tick at or above max (up to 2% above a round number does not add a tick).
  for (let t = 0; ticks.length === 0 || ticks[ticks.length - 1]! < max * 0.98; t += unit) ticks.push(Math.round(t * 1e6) / 1e6);
  return ticks;
}

/** Round ticks from 0 up to `end`, and `end` itself unless a round tick is too close to it for two labels. */
function xAxisTicks(end: number): number[] {
  const round = niceTicks(end).filter((t) => t <= end * 1.0001);
  const unit = round.length > 1 ? round[1]! : end;
  return end - round[round.length - 1]! < unit * 0.4 ? round : [...round, Math.round(end * 100) / 100];
}

function compact(value: number): string {
  return value >= 10_000 ? `${Math.round(value / 1000)}k` : String(value);
}

function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// -------------------------------------------------------------- page assets

// In <head>, before anything can fail: count errors into data-errors.
const EARLY_SCRIPT = `
(function () {
  var root = document.documentElement;
  root.dataset.errors = '';
  function note(text) { root.dataset.errors += (root.dataset.errors ? '\\n' : '') + text; }
  window.addEventListener('error', function (e) { note(String(e.message)); });
  window.addEventListener('unhandledrejection', function (e) { note(String(e.reason)); });
})();`;

// At the end of <body>: #only=ID, scroll the timelines, note the drawing time.
const LATE_SCRIPT = `
(function () {
  var root = document.documentElement;
  var only = /^#only=([\\w-]+)$/.exec(location.hash);
  if (only) {
    var target = document.getElementById(only[1]);
    if (target) {
      document.querySelector('main').replaceChildren(target);
      document.getElementById('page-header').remove();
      root.classList.add('only');
    }
  }
  document.querySelectorAll('.timeline-scroll').forEach(function (box) {
    box.scrollLeft = Math.max(0, Number(box.dataset.focus) - box.clientWidth / 2);
  });
  root.dataset.height = String(document.body.scrollHeight); // forces the layout of the whole page
  root.dataset.drawnMs = performance.now().toFixed(1);
  requestAnimationFrame(function () { root.dataset.frameMs = performance.now().toFixed(1); });
})();`;

const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; font-size: 14px; color: #222; background: #fff; }
body { margin: 0 16px 24px; }
h1 { font-size: 20px; margin: 14px 0 4px; }
h2 { font-size: 18px; margin: 10px 0 2px; }
h3 { font-size: 16px; margin: 18px 0 4px; border-top: 1px solid #ddd; padding-top: 10px; }
h4 { font-size: 14px; margin: 14px 0 2px; }
.command { color: #555; margin: 0 0 8px; }
.columns { display: grid; gap: 20px; }
.column { min-width: 0; }
.target { color: #555; margin: 0; }
.verdict { font-size: 12px; padding: 1px 7px; border-radius: 9px; color: #fff; vertical-align: 2px; }
.verdict-success { background: #2e7d32; } .verdict-fail { background: #c62828; }
.verdict-unknown, .verdict-error { background: #ef6c00; }
.figures { border-collapse: collapse; margin: 6px 0; }
.figures th { text-align: left; font-weight: normal; color: #444; padding: 1px 16px 1px 0; }
.figures td { text-align: right; font-variant-numeric: tabular-nums; }
.count { color: #c62828; }
.meaning { margin: 2px 0 6px; color: #333; max-width: 70em; }
pre.sample { white-space: pre-wrap; background: #f6f6f6; padding: 6px 8px; margin: 4px 0; font-size: 12px; max-width: 90em; }
figure { margin: 10px 0 16px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.timeline-box { display: flex; border: 1px solid #ddd; background: #fff; }
/* Each timeline scrolls sideways inside its own column; the padding keeps
   the last lane clear of the scrollbar, overlaid or not. */
.timeline-scroll { overflow-x: auto; overflow-y: hidden; flex: 1; min-width: 0; padding-bottom: 12px; }
.timeline-scroll:focus-visible { outline: 2px solid #1f77b4; outline-offset: -2px; }
svg.lane-labels { flex: none; display: block; border-right: 1px solid #ddd; }
svg.timeline { display: block; font-size: 11px; }
.lane-bg { fill: #fff; } .lane:nth-of-type(even) .lane-bg { fill: #f4f6f8; }
.lane-label { fill: #333; font-size: 12px; }
.axis-note { fill: #777; font-size: 11px; }
.op rect { stroke: #555; stroke-width: 0.6; }
.op-label { fill: #111; font-size: 11px; pointer-events: none; paint-order: stroke; stroke-width: 3px; stroke-linejoin: round; }
.op-label.outcome-ok { stroke: #a5d6a7; } .op-label.outcome-exists, .op-label.outcome-notfound { stroke: #ffe082; }
.op-label.outcome-value { stroke: #90caf9; } .op-label.outcome-integer { stroke: #ce93d8; }
.op-label.outcome-error { stroke: #ff8a65; } .op-label.outcome-noreply { stroke: #e0e0e0; }
.op:hover rect { stroke: #000; stroke-width: 1.5; }
.outcome-ok rect { fill: #a5d6a7; } .outcome-exists rect, .outcome-notfound rect { fill: #ffe082; }
.outcome-value rect { fill: #90caf9; } .outcome-integer rect { fill: #ce93d8; }
.outcome-error rect { fill: #ff8a65; } .outcome-noreply rect { fill: #e0e0e0; stroke-dasharray: 3 2; }
.op.stuck rect, .swatch.stuck rect { stroke: #d50000; stroke-width: 3; stroke-dasharray: 5 3; }
.swatch.stuck rect { fill: #fff; stroke-width: 2; }
.stuck-label { fill: #d50000; font-weight: 600; font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.fault rect { fill: #ff7043; opacity: 0.16; } .fault line { stroke: #e64a19; stroke-width: 2; stroke-dasharray: 4 2; }
.fault line.fault-leader { stroke-width: 1; stroke-dasharray: none; }
.fault text { fill: #bf360c; font-size: 11px; } .swatch.fault rect { fill: #ff7043; opacity: 0.35; }
.linearization { fill: none; stroke: #263238; stroke-width: 1.6; opacity: 0.8; }
.lin-point circle { fill: #263238; } .lin-point text { fill: #263238; font-size: 10px; font-weight: 600; }
.legend { font-size: 12px; color: #444; margin: 4px 0; }
.swatch { white-space: nowrap; margin-right: 8px; }
.swatch svg { vertical-align: -1px; }
.sentence { border-left: 4px solid #d50000; background: #fff5f5; padding: 6px 10px; margin: 6px 0; max-width: 90em; }
.error { color: #c62828; }
.chart { display: block; font-size: 11px; }
.pair { display: flex; flex-wrap: wrap; gap: 12px; }
.bar rect { fill: #5c8fd6; } .bar-value { text-anchor: middle; fill: #333; font-size: 10px; }
.grid { stroke: #e3e3e3; } .tick { fill: #555; text-anchor: middle; font-size: 10px; } .tick-y, .tick-turned { text-anchor: end; }
.axis-title { fill: #444; text-anchor: middle; font-size: 11px; }
.chart-box { display: inline-block; }
html.only body { margin: 8px; } html.only figure { margin: 0; }
`;
