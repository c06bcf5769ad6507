import { MAX_IN_FLIGHT } from '../../../shared/persistence/worker-process.ts';
import { ONE_WORKER, type Dispatch } from '../../04-ipc-queue/persister.ts';

// --dispatch by-key (the default): every write of a key goes to worker
// process hash(key) mod N, and each worker process has a log of its own. One
// key's writes then travel one FIFO path - queue, outbox, channel, worker
// process, file - so they stay in order, and keys never meet across logs.
// Parallel, and still correct: the fix for free dispatch's hazard.

export const BY_KEY: Dispatch = {
  name: 'by-key',
  logFiles: (workers) => (workers === 1
    ? ['log.aof']
    : Array.from({ length: workers }, (_, i) => `log-${i}-of-${workers}.aof`)),
  flush(context) {
    const { queue, workers, maxBatch, send } = context;
    if (workers.length === 1) return ONE_WORKER.flush(context);
    // THE FIX: route every ready task to its key's worker process, in order.
    for (const entry of queue.take(queue.ready)) {
      workers[entry.task.keyHash % workers.length]!.outbox.push(entry);
    }
    for (const worker of workers) {
      while (worker.alive && worker.inFlight < MAX_IN_FLIGHT && worker.outbox.length > 0) {
        send(worker, worker.outbox.splice(0, maxBatch));
      }
    }
  },
};
