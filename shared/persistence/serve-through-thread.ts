import type { Socket } from 'node:net';
import type { Worker } from 'node:worker_threads';
import type { ChunkResult } from './connection-thread.ts';
import type { Persister } from './persister.ts';

// The main thread's part of one connection in steps 04 and 05: it owns the
// socket (a socket cannot be handed to a thread), forwards the bytes read to
// the connection's thread, and writes back the replies the thread sends -
// but only once the persister has accepted that chunk's writes.
//
// That wait is where backpressure reaches the client: while the queue is
// full, replies are held back; and while a reply is held back, we stop
// reading from the socket, so the client cannot pile up more work in our
// memory. Replies still go out in the order of the requests, because each
// one waits for the one before it (`inOrder`).

export interface ThreadConnection {
  /** Lets the thread finish what it was given; resolves once every reply is sent. */
  finish(): Promise<void>;
}

export function serveThroughThread(
  socket: Socket,
  thread: Worker,
  persister: Persister,
  onClosed: () => void,
): ThreadConnection {
  let inOrder: Promise<void> = Promise.resolve();
  let held = 0; // replies waiting for the persister
  let finished: (() => void) | null = null;
  let ended = false;
  let done = false;

  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    thread.postMessage(chunk);
    if (held > 0) socket.pause(); // backpressure: read on once the replies are out
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => end());

  thread.on('message', (message: ChunkResult | 'bye') => {
    if (message === 'bye') {
      // Every chunk sent before has been answered: nothing is half done, so
      // stopping the thread now cannot leave the lock held or a task behind.
      void inOrder.then(() => {
        done = true;
        void thread.terminate();
        onClosed();
        finished?.();
      });
      return;
    }
    const accepted = persister.submit(message.tasks);
    held++;
    inOrder = inOrder.then(() => accepted).then(() => {
      held--;
      if (message.bytes !== null && !socket.destroyed) socket.write(message.bytes);
      if (message.close) socket.end();
      if (held === 0 && socket.isPaused() && !ended) socket.resume();
    });
  });

  function end(): void {
    if (ended) return;
    ended = true;
    thread.postMessage(null); // after every chunk already forwarded
  }

  return {
    finish() {
      if (done) return Promise.resolve();
      return new Promise<void>((resolve) => {
        finished = resolve;
        socket.pause();
        end();
      });
    },
  };
}
