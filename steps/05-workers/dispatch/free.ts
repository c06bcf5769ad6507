import { MAX_IN_FLIGHT } from '../../../shared/persistence/worker-process.ts';
import { ONE_WORKER, type Dispatch } from '../../04-ipc-queue/persister.ts';

// --dispatch free: each batch goes to whichever worker process is least busy,
// and all of them append to one shared log. Fast, but two writes to one key
// can reach the log out of order: the worker process holding the older one
// may still be busy when another, given the newer one later, finishes first.
// Step 05's hazard: replay (in file order) then rebuilds the older value.

export const FREE: Dispatch = {
  name: 'free',
  logFiles: () => ['log.aof'], // one log, shared by every worker process
  flush(context) {
    const { queue, workers, maxBatch, send } = context;
    if (workers.length === 1) return ONE_WORKER.flush(context);
    while (queue.ready > 0) {
      // THE HAZARD: the next batch goes to whoever has the fewest in flight,
      // whatever keys it holds.
      const worker = workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      if (worker.inFlight >= MAX_IN_FLIGHT) return; // all busy: the acks will call us again
      send(worker, queue.take(maxBatch));
    }
  },
};
