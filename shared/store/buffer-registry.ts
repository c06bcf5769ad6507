import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

// Numbered SharedArrayBuffers that every thread of a process can find.
//
// GrowableStore (growable-store.ts) keeps large values and its index each in
// a SharedArrayBuffer of its own, so that freeing one gives its memory back
// (a growable buffer can grow, never shrink). A thread that makes such a
// buffer must hand it to the others, and the only way to hand a
// SharedArrayBuffer to another thread is a message. Messages arrive when the
// receiver's event loop gets round to them, which is too late for a reader
// that holds the store lock now. So:
//
// - every buffer has a number (the store keeps the next one in its header);
// - the maker sends `add` to every other thread BEFORE it releases the store
//   lock (postMessage queues the message at the receiver at once);
// - a reader that meets a number it does not know empties its ports on the
//   spot with receiveMessageOnPort(), which reads queued messages
//   synchronously. Whoever took the lock after the maker released it finds
//   the `add` already queued (measured: 1,000 buffers in a row, every one
//   there on the first try);
// - a buffer no longer used is `drop`ped: every thread forgets it, and once
//   no thread holds it the garbage collector gives its memory back. Idle
//   threads handle their messages on their event loop too, so they do not
//   keep dropped buffers alive.
//
// GIVING THE MEMORY BACK. V8 frees a SharedArrayBuffer's memory once no
// thread can reach it any more and each thread that had it has run its
// garbage collector. A pool thread with no job allocates nothing, so it never
// collects, and would keep every big value it was ever sent: after 10 SETs of
// 10 MB and their DEL, the server's RSS stayed 175 MB above where it started.
// So once the buffers this thread has forgotten add up to COLLECT_AFTER_BYTES,
// it asks V8 for a full collection 100 ms later (the collector is reached
// through --expose-gc, set at run time). That is rare (once per 64 MB of big
// values freed) and short for a thread with a small heap.
//
// Every pair of threads has its own MessageChannel (a mesh: n threads, n-1
// ports each). BroadcastChannel would be simpler, but receiveMessageOnPort
// finds nothing on it (tried on Node 20). Messages of one port arrive in
// order; `add` and `drop` of one number can come on different ports (one
// thread made it, another freed it), so a `drop` that arrives first is
// remembered and cancels the later `add`.

type RegistryMessage = { add: number; buffer: SharedArrayBuffer } | { drop: number };

/** Bytes of forgotten buffers after which a thread collects its garbage. */
export const COLLECT_AFTER_BYTES = 64 * 1024 * 1024;

// V8's collector, as --expose-gc gives it to a new context.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

export class BufferRegistry {
  /**
   * The ports of a mesh of `participants` threads: element i is the list of
   * ports participant i talks to every other through. Give each list to its
   * thread (transferList) and build a BufferRegistry from it there.
   */
  static mesh(participants: number): MessagePort[][] {
    const ports: MessagePort[][] = Array.from({ length: participants }, () => []);
    for (let a = 0; a < participants; a++) {
      for (let b = a + 1; b < participants; b++) {
        const { port1, port2 } = new MessageChannel();
        ports[a]!.push(port1);
        ports[b]!.push(port2);
      }
    }
    return ports;
  }

  private readonly buffers = new Map<number, SharedArrayBuffer>();
  // Numbers dropped before their `add` arrived (see above).
  private readonly droppedEarly = new Set<number>();
  private forgottenBytes = 0;
  private collectScheduled = false;

  /** `ports`: this thread's list from mesh(); [] for a store used by one thread. */
  constructor(private readonly ports: readonly MessagePort[] = []) {
    for (const port of ports) {
      port.on('message', (message: RegistryMessage) => this.apply(message));
      port.unref(); // a registry alone never keeps a thread alive
    }
  }

  /** Makes `buffer` known as `id`, here and (at once) to every other thread. */
  add(id: number, buffer: SharedArrayBuffer): void {
    this.buffers.set(id, buffer);
    for (const port of this.ports) port.postMessage({ add: id, buffer });
  }

  /** Forgets `id` here and in every other thread. */
  drop(id: number): void {
    this.forget(id);
    for (const port of this.ports) port.postMessage({ drop: id });
  }

  /** The buffer numbered `id`, or undefined when no thread made it (or it was dropped). */
  get(id: number): SharedArrayBuffer | undefined {
    const known = this.buffers.get(id);
    if (known !== undefined || this.ports.length === 0) return known;
    this.receiveQueued();
    return this.buffers.get(id);
  }

  /** How many buffers this thread knows (for tests). */
  get count(): number {
    return this.buffers.size;
  }

  /** Handles every message already queued on the ports, now. */
  receiveQueued(): void {
    for (const port of this.ports) {
      // Bounded by what is queued; each message is handled once.
      for (let message = receiveMessageOnPort(port); message !== undefined; message = receiveMessageOnPort(port)) {
        this.apply(message.message as RegistryMessage);
      }
    }
  }

  /** Closes the ports (a thread that stops using the store). */
  close(): void {
    for (const port of this.ports) port.close();
  }

  private apply(message: RegistryMessage): void {
    if ('add' in message) {
      if (this.droppedEarly.delete(message.add)) return;
      this.buffers.set(message.add, message.buffer);
    } else if (!this.forget(message.drop)) {
      this.droppedEarly.add(message.drop);
    }
  }

  // Forgets `id`; false when it was not known. See GIVING THE MEMORY BACK.
  private forget(id: number): boolean {
    const buffer = this.buffers.get(id);
    if (buffer === undefined) return false;
    this.buffers.delete(id);
    this.forgottenBytes += buffer.byteLength;
    if (this.forgottenBytes >= COLLECT_AFTER_BYTES && !this.collectScheduled) {
      this.collectScheduled = true;
      setTimeout(() => {
        this.collectScheduled = false;
        this.forgottenBytes = 0;
        collectGarbage();
      }, 100).unref();
    }
    return true;
  }
}
