// A live progress line, for every run that may take more than two seconds
// (the tester, compare, bench, the benchmarks, the exercise checks).
//
// On a terminal the line is rewritten in place (\r), at most five times a
// second, nothing before the run is two seconds old (a short run stays
// quiet), and it is erased at the end. Elsewhere (a pipe, a CI log) it is
// printed as a plain line at most every 5 seconds, so that a long run shows it
// is alive without flooding the log.

/** Returns `show(line)`: shows the line (throttled as above); `show('')` erases it. */
export function liveLine(stream: NodeJS.WriteStream): (line: string) => void {
  const quietUntil = Date.now() + 2000;
  let last = Date.now(); // in a log, nothing for the first 5 s
  let shown = false;
  return (line: string) => {
    const now = Date.now();
    if (line === '') {
      if (shown && stream.isTTY) stream.write('\r\x1b[K');
      shown = false;
      return;
    }
    if (stream.isTTY) {
      if (now < quietUntil || (shown && now - last < 200)) return;
      stream.write(`\r\x1b[K${line}`);
    } else {
      if (now - last < 5000) return;
      stream.write(`${line}\n`);
    }
    last = now;
    shown = true;
  };
}

export interface StepLine {
  /**
   * Starts a step: shows TEXT at once (throttled as liveLine's line is), and,
   * while the event loop is free, `TEXT: 3 s` every second (plus what
   * `detail()` says) until the next step or clear(). A script that blocks the
   * event loop (execFileSync, a tight loop) gets its line drawn only when it
   * calls step(): call it between the blocking pieces, e.g. every 100,000
   * iterations with `writes 100000/200000`.
   */
  step(text: string, detail?: () => string): void;
  /** Erases the line and stops the timer: call it before printing a result. step() may follow. */
  clear(): void;
}

/**
 * The live line of a run made of steps (the benchmarks):
 *
 *     const line = stepLine();
 *     for (let run = 1; run <= runs; run++) {
 *       line.step(`redis-benchmark run ${run}/${runs} against step 06`);
 *       const figures = await measure();
 *       line.clear();
 *       console.log(`run ${run}: ${figures}`);
 *     }
 *
 * The line goes to `stream` (stderr by default), so that stdout keeps only
 * the results. The timer does not keep the process alive.
 */
export function stepLine(stream: NodeJS.WriteStream = process.stderr): StepLine {
  const show = liveLine(stream);
  let timer: NodeJS.Timeout | undefined;
  return {
    step(text, detail = () => '') {
      clearInterval(timer);
      show(text);
      const started = Date.now();
      timer = setInterval(() => {
        const extra = detail();
        show(`${text}: ${Math.round((Date.now() - started) / 1000)} s${extra ? `, ${extra}` : ''}`);
      }, 1000);
      timer.unref();
    },
    clear() {
      clearInterval(timer);
      timer = undefined;
      show('');
    },
  };
}

export interface ProgressTicker {
  /** Erases the line and stops the timer. */
  stop(): void;
}

/**
 * For a task that keeps the event loop free while it waits (a child process
 * run with spawn, not spawnSync): `LABEL: 3 s` every second, plus what
 * `detail()` says, on the live line above (a stepLine of one step). The
 * exercise runner (tester/course/exercise.ts) can wrap its check in it:
 *
 *     const ticker = progressTicker(`exercise ${name}`);
 *     try { await runCheck(); } finally { ticker.stop(); }
 */
export function progressTicker(label: string, detail: () => string = () => '', stream: NodeJS.WriteStream = process.stderr): ProgressTicker {
  const line = stepLine(stream);
  line.step(label, detail);
  return { stop: () => line.clear() };
}
