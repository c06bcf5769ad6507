import type { InfoFigures } from '../threads/connection-thread.ts';

// The persister's figures for INFO in steps 04 and 05.
//
// INFO runs on a connection thread, but the persister (queue, sequencer,
// worker processes) lives on the main thread, and threads share no objects.
// So the main thread copies its figures into a small SharedArrayBuffer now
// and then, and every thread reads them from there (ConnectionThreadData's
// `figures`). A figure may be up to EVERY_MS old: good enough for watching.

const NAMES = [
  'queue_depth', 'tasks_in_server', 'tasks_in_workers', 'queue_capacity', 'queue_blocked', 'queue_depth_max',
  'sequencer_holding', 'tasks_written', 'worker_processes',
] as const;
const EVERY_MS = 50;

/** What INFO shows of a persister (steps/04-ipc-queue/persister.ts). */
export interface FigureSource {
  stats(): Record<Exclude<(typeof NAMES)[number], 'worker_processes'>, number>;
  workerPids(): number[];
}

/** Shared figures of `persister`, kept up to date until the process exits. */
export function persisterFigures(persister: FigureSource): InfoFigures {
  const values = new Int32Array(new SharedArrayBuffer(4 * NAMES.length));
  const publish = () => {
    const figures = {
      ...persister.stats(),
      worker_processes: persister.workerPids().length,
    };
    NAMES.forEach((name, i) => Atomics.store(values, i, figures[name] | 0));
  };
  publish();
  setInterval(publish, EVERY_MS).unref(); // never what keeps the process alive
  return { names: NAMES, values };
}
