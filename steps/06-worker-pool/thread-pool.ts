import { Worker } from 'node:worker_threads';
import { bundle } from '../../shared/threads/bundle.ts';
import type { Protocol } from '../../shared/protocol/encode.ts';
import type { Job, JobResult, PoolThreadData } from './pool-thread.ts';

// A bounded pool of worker threads, started once: N threads whatever the
// number of connections.
//
// `run(requests)` queues a job; once per turn of the event loop the queued
// jobs are shared out among the idle threads, one message per thread
// (batching: a message costs about the same whether it carries one job or
// fifty). A thread gets its next message only when it has answered the last
// one, so a long job never has others queued behind it in that thread while
// another thread is idle.

interface Waiting {
  job: Job;
  resolve: (result: JobResult) => void;
}

interface PoolThread {
  worker: Worker;
  /** The jobs of the message it is working on; empty when idle. */
  running: Waiting[];
  jobsDone: number;
  busyMs: number;
  sentAt: number;
}

export interface PoolStats {
  pool_threads: number;
  pool_busy: number;
  pool_queued: number;
  pool_jobs_done: number;
  pool_messages: number;
}

export class ThreadPool {
  private readonly threads: PoolThread[];
  private queue: Waiting[] = [];
  private nextId = 0;
  private messages = 0;
  private flushScheduled = false;

  /** `data(i)`: what thread i starts with (each has its own registry ports, transferred). */
  constructor(size: number, data: (thread: number) => PoolThreadData) {
    // Plain JavaScript, bundled at start: a thread that loads .ts through tsx
    // costs about 20 MB more (see shared/threads/bundle.ts).
    const file = bundle(new URL('./pool-thread.ts', import.meta.url));
    this.threads = Array.from({ length: size }, (_, i) => {
      const workerData = data(i);
      const worker = new Worker(file, { workerData, transferList: workerData.registryPorts });
      const thread: PoolThread = { worker, running: [], jobsDone: 0, busyMs: 0, sentAt: 0 };
      thread.worker.on('message', (results: JobResult[]) => this.finished(thread, results));
      // A thread that fails has a bug: stop loudly rather than hang clients.
      thread.worker.on('error', (caught) => {
        console.error(`pool thread failed: ${caught.stack ?? caught}`);
        process.exit(1);
      });
      return thread;
    });
  }

  /** Runs `requests` (of one connection, in order) on some thread; replies in that connection's RESP version. */
  run(requests: Buffer[][], protocol: Protocol = 2): Promise<JobResult> {
    return new Promise((resolve) => {
      this.queue.push({ job: { id: this.nextId++, requests, protocol }, resolve });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  stats(): PoolStats {
    return {
      pool_threads: this.threads.length,
      pool_busy: this.threads.filter((t) => t.running.length > 0).length,
      pool_queued: this.queue.length,
      pool_jobs_done: this.threads.reduce((sum, t) => sum + t.jobsDone, 0),
      pool_messages: this.messages,
    };
  }

  /** Per thread: jobs done and milliseconds spent on them (for INFO). */
  threadFigures(): Array<{ jobs: number; busyMs: number }> {
    return this.threads.map((t) => ({ jobs: t.jobsDone, busyMs: Math.round(t.busyMs) }));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private flush(): void {
    const idle = this.threads.filter((t) => t.running.length === 0);
    for (let i = 0; i < idle.length && this.queue.length > 0; i++) {
      // An even share of what waits, for each idle thread.
      const share = Math.ceil(this.queue.length / (idle.length - i));
      const batch = this.queue.splice(0, share);
      const thread = idle[i]!;
      thread.running = batch;
      thread.sentAt = performance.now();
      this.messages++;
      thread.worker.postMessage(batch.map((w) => w.job));
    }
  }

  private finished(thread: PoolThread, results: JobResult[]): void {
    const running = thread.running;
    thread.running = [];
    thread.jobsDone += results.length;
    thread.busyMs += performance.now() - thread.sentAt;
    results.forEach((result, i) => running[i]!.resolve(result));
    if (this.queue.length > 0) this.flush();
  }
}
