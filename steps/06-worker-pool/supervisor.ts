import path from 'node:path';
import { lastSeqWritten } from '../../shared/persistence/log-rewrite.ts';
import type { Persister, Supervisor } from '../04-ipc-queue/persister.ts';

// Step 06's supervision: a worker process that dies (a crash, a SIGKILL) is
// restarted on its own log, and the batches it had not acknowledged are sent
// again. Nothing acknowledged to a client is lost: a task leaves the
// persister's memory only once its worker process acknowledged it
// (steps/04-ipc-queue/persister.ts).
//
// The dead process may have written part of its batches before it died, so
// before the restart the supervisor works out, from the highest sequence
// number whole in the log, which records are already written (they are not
// sent twice); reading the log also cuts off a record that was half written.
// That needs a log per worker process: by-key dispatch, or a single worker.

export interface SupervisorOptions {
  /** A worker process was replaced: its new pid, and how many tasks were sent to it again. */
  onRestart?: (index: number, pid: number, resent: number) => void;
}

/** Restarts every worker process that dies, as often as it dies. */
export function restartEveryWorker({ onRestart }: SupervisorOptions = {}): Supervisor {
  return {
    check(workers, logFiles) {
      if (logFiles.length !== workers) throw new Error('supervise needs a log per worker (by-key dispatch, or one worker)');
    },
    workerDied(persister, index) {
      void restart(persister, index, onRestart);
    },
  };
}

async function restart(persister: Persister, index: number, onRestart: SupervisorOptions['onRestart']): Promise<void> {
  const { unacknowledged, file } = persister.takeFromDead(index);
  // The dead process wrote `unacknowledged` in order, up to some record:
  // those numbered up to the last whole one in its log are written.
  const lastSeq = lastSeqWritten(path.dirname(file), path.basename(file));
  let whole = 0;
  while (whole < unacknowledged.length && unacknowledged[whole]!.seq <= lastSeq) whole++;
  persister.requeue(index, unacknowledged.slice(0, whole), unacknowledged.slice(whole));
  // RESTART: a new worker process on the same log.
  for (let attempt = 0; ; attempt++) {
    try {
      const started = await persister.fork(file);
      persister.replace(index, started);
      onRestart?.(index, started.child.pid!, unacknowledged.length - whole);
      return;
    } catch (caught) {
      // It died before it was ready: try again, a little later each time.
      process.stderr.write(`log worker ${index} failed to restart: ${(caught as Error).message}\n`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 10 * 2 ** attempt)));
    }
  }
}
