import { HAVE_PROC, TICKS_PER_SECOND, allPids, commandLine, cpuTicks, memoryBytes, statFields } from '../shared/os/proc.ts';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ProcessSeries } from './pictures.ts';

// CPU time and memory of a server and every process it started (the worker
// processes of steps 04-06), read from Linux's /proc (shared/os/proc.ts)
// while a scenario runs. Without /proc (macOS, Windows) there is no monitor
// (available() is false: the figures say n/a) and processTree() knows only
// the root.
//
// - CPU: /proc/PID/stat fields utime + stime (all threads of the process, in
//   clock ticks of 1/100 s). A process that ends between two samples loses its
//   last moments, so sampling is frequent.
// - Memory: the sum of every process's resident set (VmRSS in
//   /proc/PID/status) at each sample, and the highest sum seen; at least the
//   server's own peak (VmHWM, which the kernel keeps exactly).
// - Over time (for the report page): every sample's CPU ticks and VmRSS of
//   each process, turned by series() into % of one core and MB per process,
//   each named by what it runs (processRole: the server, a log worker
//   process, esbuild compiling TypeScript for tsx or a bundle).

export interface ProcessFigures {
  /** CPU seconds used since the monitor started, all processes together. */
  cpuSeconds: number;
  /** The highest total resident memory seen, in bytes. */
  peakRssBytes: number;
  /** How many processes were seen (the server and its descendants). */
  processes: number;
}

export class ProcessTreeMonitor {
  private readonly cpuAtStart = new Map<number, number>();
  private readonly cpuLatest = new Map<number, number>();
  private peakRss = 0;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private readonly samples: Array<{ at: number; byPid: Map<number, { ticks: number; rss: number }> }> = [];
  /** What each process runs, read from its command line when it was first seen. */
  private readonly roles = new Map<number, string>();

  constructor(private readonly rootPid: number) {}

  static available(): boolean {
    return HAVE_PROC;
  }

  start(intervalMs = 200): void {
    this.startedAt = performance.now();
    for (const pid of processTree(this.rootPid)) {
      const cpu = cpuTicks(pid);
      if (cpu !== null) this.cpuAtStart.set(pid, cpu);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): ProcessFigures {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    let ticks = 0;
    for (const [pid, latest] of this.cpuLatest) ticks += latest - (this.cpuAtStart.get(pid) ?? 0);
    const rootPeak = memoryBytes(this.rootPid, 'VmHWM') ?? 0;
    return { cpuSeconds: ticks / TICKS_PER_SECOND, peakRssBytes: Math.max(this.peakRss, rootPeak), processes: this.cpuLatest.size };
  }

  /** Each process's CPU (% of one core between samples) and memory (MB) at every sample. */
  series(): ProcessSeries {
    const pids = [...new Set(this.samples.flatMap((s) => [...s.byPid.keys()]))];
    return {
      times: this.samples.map((s) => Math.round(s.at - this.startedAt)),
      processes: pids.map((pid) => ({
        pid,
        role: this.roles.get(pid) ?? processRole(null, pid === this.rootPid),
        cpuPercent: this.samples.map((s, i) => {
          const now = s.byPid.get(pid);
          const before = i === 0 ? undefined : this.samples[i - 1]!.byPid.get(pid);
          if (now === undefined || before === undefined) return null;
          const seconds = (s.at - this.samples[i - 1]!.at) / 1000;
          return Math.round((100 * (now.ticks - before.ticks)) / TICKS_PER_SECOND / seconds);
        }),
        rssMb: this.samples.map((s) => {
          const now = s.byPid.get(pid);
          return now === undefined ? null : Math.round((now.rss / 1048576) * 10) / 10;
        }),
      })),
    };
  }

  private sample(): void {
    let rss = 0;
    const byPid = new Map<number, { ticks: number; rss: number }>();
    for (const pid of processTree(this.rootPid)) {
      const cpu = cpuTicks(pid);
      if (cpu !== null) this.cpuLatest.set(pid, cpu);
      const resident = memoryBytes(pid, 'VmRSS') ?? 0;
      rss += resident;
      if (cpu !== null) byPid.set(pid, { ticks: cpu, rss: resident });
      if (!this.roles.has(pid)) this.roles.set(pid, processRole(commandLine(pid), pid === this.rootPid));
    }
    this.peakRss = Math.max(this.peakRss, rss);
    this.samples.push({ at: performance.now(), byPid });
  }
}

/**
 * What a process of a server's tree is, for a picture's legend, from its
 * command line (`argv`; null when unknown): the server itself (`isRoot`); a
 * log worker process (steps 04-06: log-worker.ts, or its bundle
 * log-worker-HASH.mjs); esbuild (tsx's compiler: a server that had a file
 * to compile, tsx's cache in TMPDIR being cold, keeps it as a child from then
 * on, idle; not part of the server's work);
 * else `child process` and the file it runs.
 */
export function processRole(argv: string[] | null, isRoot: boolean): string {
  if (isRoot) return 'server';
  if (argv === null) return 'child process';
  const program = path.basename(argv[0]!);
  if (argv.some((arg) => /(^|\/)log-worker(-[0-9a-f]+)?\.(ts|mjs|js)$/.test(arg))) return 'log worker process';
  if (/^esbuild(\.exe)?$/.test(program) || argv.some((arg) => /(^|\/)esbuild\/bin\/esbuild$/.test(arg))) {
    return 'esbuild (compiling TypeScript)';
  }
  const script = argv.slice(1).find((arg) => /\.(ts|mts|js|mjs|cjs)$/.test(arg));
  return `child process (${script === undefined ? program : path.basename(script)})`;
}

/** `root` and all its descendants that are alive now (without /proc: `root` alone). */
export function processTree(root: number): number[] {
  if (!HAVE_PROC) return [root];
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const parent = statFields(pid)?.[1];
    if (parent === undefined) continue;
    const list = children.get(Number(parent)) ?? [];
    list.push(pid);
    children.set(Number(parent), list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (statFields(pid) === null) continue;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}
