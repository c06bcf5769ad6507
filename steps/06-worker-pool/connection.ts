import type { Socket } from 'node:net';
import { ReplyWriter, encodeReply } from '../../shared/protocol/encode.ts';
import { DEFAULT_LIMITS, RequestParser, type ParseEvent, type ParserLimits } from '../../shared/protocol/request-parser.ts';
import { ErrorCode, OK, error, type Reply } from '../../shared/protocol/reply.ts';
import { isQuit, type ClientState } from '../../shared/server/client-state.ts';
import type { Protocol } from '../../shared/protocol/encode.ts';
import type { JobResult } from './pool-thread.ts';
import type { ReplicationAnswer } from './replication/primary.ts';
import { BLOCKED } from '../../shared/commands/list-commands.ts';
import type { BlockedPop } from '../../shared/store/lists.ts';

// One client connection of step 06, served on the event loop.
//
// Each request either runs right here (`runInline`: a fast command, a few
// microseconds on the shared store under the lock) or goes to the thread
// pool (`runOnPool`: a heavy one). Either way:
//
// - replies leave in the order of the requests. Each group of replies waits
//   for the one before it, and for the persister to accept the group's
//   writes (or, with --durable, to have them on disk);
// - a connection is served in order: after a request that went to the pool,
//   its next requests wait until that one is done (read-your-writes);
// - while replies are held back, we stop reading from the socket, so a
//   client cannot pile up work in our memory (backpressure);
// - the connection's own commands (HELLO, CLIENT, MULTI/EXEC/WATCH...) are
//   answered by its ClientState first. A transaction is queued there and EXEC
//   runs inline, under the write lock, heavy commands included (they then
//   hold the event loop: a transaction is atomic or it is not).
// - a BLPOP that blocks holds the connection like a pool job does: no thread
//   waits, only a promise (shared/store/lists.ts); the requests after it wait
//   their turn. A client that disconnects cancels its waiter.

export interface ConnectionHooks {
  /** Whether this request goes to the pool. */
  isHeavy(args: Buffer[]): boolean;
  /** Runs a fast request here, on the event loop; the writes' tasks are collected by `takeGate`. */
  runInline(args: Buffer[]): Reply;
  /** A promise that the writes run since the last call are persisted (null when there were none). */
  takeGate(): Promise<void> | null;
  /** Runs requests on the pool, replying in `protocol`; resolves once their result is in and its writes are persisted. */
  runOnPool(requests: Buffer[][], protocol: Protocol): Promise<JobResult>;
  /** Called for each group of replies written: how many requests, and how long they took (us). */
  answered(requests: number, us: number): void;
  /** Replication's commands (PSYNC, REPLCONF, WAIT, ROLE...): null for any other (replication/primary.ts). */
  replication(args: Buffer[], socket: Socket): ReplicationAnswer | null;
  /** After runInline answered BLOCKED: the pop this connection now waits for. */
  takeBlocked(): BlockedPop | null;
}


// Shared by every connection with nothing parked (never pushed to: `receive`
// replaces an empty `parked`), so the usual case allocates nothing.
const NOTHING_PARKED: ParseEvent[] = [];

export class ClientConnection {
  private readonly parser: RequestParser;
  private readonly replies = new ReplyWriter(); // replies of the current group
  private parked: ParseEvent[] = NOTHING_PARKED; // requests received, waiting behind a pool job
  private poolBusy = false;
  private closing = false; // QUIT or a fatal protocol error: no more requests
  private tail: Promise<void> | null = null; // the last held group of replies
  private held = 0;
  private receivedAt = 0;
  private finishedCallbacks: Array<() => void> = [];
  /** The server is shutting down: read nothing more, finish, then say so. */
  private draining = false;
  /** PSYNC made this socket a replica link: the replication module owns it now. */
  private handedOver = false;
  private blocked: BlockedPop | null = null; // a BLPOP waiting for a push

  constructor(
    readonly socket: Socket,
    private readonly hooks: ConnectionHooks,
    private readonly client: ClientState,
    limits: ParserLimits = DEFAULT_LIMITS,
  ) {
    this.parser = new RequestParser(limits);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      client.close();
      this.blocked?.cancel();
    });
  }

  private receive(chunk: Buffer): void {
    this.receivedAt = performance.now();
    const events = this.parser.push(chunk);
    if (this.parked.length === 0) this.parked = events;
    else for (const event of events) this.parked.push(event);
    this.pump();
  }

  /** Runs parked requests until a pool job or the end of what was received. */
  private pump(): void {
    let count = 0;
    let i = 0;
    const events = this.parked;
    for (; i < events.length && !this.poolBusy && !this.closing; i++) {
      const event = events[i]!;
      if (event.kind === 'error') {
        this.replies.reply(error(ErrorCode.PROTOCOL_ERROR, event.message));
        count++;
        if (event.fatal) this.closing = true;
        continue;
      }
      const args = event.args;
      if (isQuit(args)) {
        this.replies.reply(OK);
        count++;
        this.closing = true;
        continue;
      }
      const own = this.client.handle(args);
      if (own !== null) {
        this.replies.protocol = this.client.protocol; // HELLO may have changed it
        this.replies.reply(own);
        count++;
        continue;
      }
      // ---- replication: PSYNC turns the socket into a replica link; WAIT replies later.
      const replication = this.hooks.replication(args, this.socket);
      if (replication !== null) {
        if ('reply' in replication) {
          this.replies.reply(replication.reply);
          count++;
          continue;
        }
        this.emit(this.replies.take(), count, this.hooks.takeGate()); // this connection's writes go first
        count = 0;
        if ('handOver' in replication) {
          this.handedOver = true;
          this.closing = true; // no more requests here: the replica link reads from now on
          const rest = events.slice(i + 1);
          this.afterReplies(() => {
            this.socket.removeAllListeners('data');
            this.socket.resume();
            replication.handOver(this.socket, this.parser, rest);
          });
          i = events.length;
          break;
        }
        this.poolBusy = true; // WAIT blocks this connection, as a pool job does
        const answer = replication.later().then((reply) => encodeReply(reply, this.client.protocol));
        this.emit(answer, 1, null);
        void answer.then(() => {
          this.poolBusy = false;
          this.pump();
        });
        continue;
      }
      // ---- end of replication
      if (!this.hooks.isHeavy(args)) {
        const reply = this.hooks.runInline(args);
        const blocked = reply === BLOCKED ? this.hooks.takeBlocked() : null;
        if (blocked === null) {
          this.replies.reply(reply);
          count++;
          continue;
        }
        // Blocked: send what came before, then wait (as for a pool job).
        this.emit(this.replies.take(), count, this.hooks.takeGate());
        count = 0;
        this.poolBusy = true;
        this.blocked = blocked;
        const protocol = this.client.protocol;
        const served = blocked.reply.then((popped) => encodeReply(popped, protocol));
        this.emit(served, 1, null); // its pop was logged with the push that served it
        void served.then(() => {
          this.blocked = null;
          this.poolBusy = false;
          this.pump();
        });
        continue;
      }
      // A heavy request, and the heavy ones right after it: one job.
      const batch: Buffer[][] = [args];
      while (i + 1 < events.length && events[i + 1]!.kind === 'command'
        && !this.client.owns((events[i + 1] as { args: Buffer[] }).args)
        && this.hooks.isHeavy((events[i + 1] as { args: Buffer[] }).args)) {
        batch.push((events[++i] as { args: Buffer[] }).args);
      }
      this.emit(this.replies.take(), count, this.hooks.takeGate());
      count = 0;
      this.poolBusy = true;
      const job = this.hooks.runOnPool(batch, this.client.protocol);
      this.emit(job.then((result) => Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength)), batch.length, null);
      void job.then(() => {
        this.poolBusy = false;
        this.pump();
      });
    }
    this.parked = i >= events.length || this.closing ? NOTHING_PARKED : events.slice(i);
    this.emit(this.replies.take(), count, this.hooks.takeGate());
    if (this.closing && !this.handedOver) this.afterReplies(() => this.socket.end());
    this.updateFlow();
  }

  /**
   * Writes a group of replies: now if nothing is held back, else after the
   * group before it. `gate` is the persister's promise for the group's writes.
   */
  private emit(bytes: Buffer | Promise<Buffer>, count: number, gate: Promise<void> | null): void {
    if (count === 0) return;
    const startedAt = this.receivedAt;
    if (bytes instanceof Buffer && gate === null && this.tail === null) {
      this.write(bytes, count, startedAt);
      return;
    }
    this.held++;
    const previous = this.tail ?? Promise.resolve();
    const tail: Promise<void> = previous.then(() => gate).then(() => bytes).then((out) => {
      this.write(out, count, startedAt);
      this.held--;
      if (this.tail === tail) this.tail = null;
      this.updateFlow();
    });
    this.tail = tail;
  }

  private write(bytes: Buffer, count: number, startedAt: number): void {
    this.hooks.answered(count, (performance.now() - startedAt) * 1000);
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.write(bytes);
  }

  /** Reads only while nothing is held back and the socket's buffer has room. */
  private updateFlow(): void {
    const blocked = this.held > 0 || this.poolBusy || this.draining || this.socket.writableNeedDrain;
    if (blocked && !this.socket.isPaused()) {
      this.socket.pause();
      if (this.socket.writableNeedDrain) this.socket.once('drain', () => this.updateFlow());
    } else if (!blocked && this.socket.isPaused()) {
      this.socket.resume();
    }
    if (!this.poolBusy && this.held === 0 && this.finishedCallbacks.length > 0) {
      for (const callback of this.finishedCallbacks.splice(0)) callback();
    }
  }

  private afterReplies(callback: () => void): void {
    if (!this.poolBusy && this.held === 0) callback();
    else this.finishedCallbacks.push(callback);
  }

  /**
   * Graceful shutdown of this connection: stop reading, finish what was
   * received (including a pool job in progress), send its replies, then the
   * notice, then close.
   */
  drain(notice: string): Promise<void> {
    if (this.handedOver) return Promise.resolve(); // a replica link: closed by the replication module
    this.draining = true;
    this.blocked?.cancel(); // a blocked pop is answered as a timeout
    this.updateFlow();
    return new Promise((resolve) => {
      const finish = () => {
        if (this.parked.length > 0 && !this.closing) {
          this.pump(); // requests already received still get their replies
          this.afterReplies(finish);
          return;
        }
        if (!this.socket.destroyed && !this.socket.writableEnded) {
          this.socket.end(encodeReply(error(ErrorCode.SHUTTING_DOWN, notice)));
        }
        resolve();
      };
      this.afterReplies(finish);
    });
  }
}

