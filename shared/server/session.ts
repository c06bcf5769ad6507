import { RequestParser, DEFAULT_LIMITS, type ParseEvent, type ParserLimits } from '../protocol/request-parser.ts';
import { BLOCKED } from '../commands/list-commands.ts';
import type { BlockedPop } from '../store/lists.ts';
import { ReplyWriter } from '../protocol/encode.ts';
import { ErrorCode, OK, error, type Reply } from '../protocol/reply.ts';
import { isQuit, type ClientState } from './client-state.ts';

// One client's conversation: bytes in, reply bytes out. It owns the parser (so
// framing is per connection) and hands each complete request to `execute`.
// Whatever runs the session (the event loop in step 01, a Worker thread in
// step 02...) only moves bytes between the socket and `receive`.
//
// With a ClientState (every step's server passes one), the connection's own
// commands (HELLO, CLIENT, MULTI/EXEC/WATCH...) are answered by it, and the
// replies are written in the RESP version its HELLO chose.
//
// A BLPOP that blocks (step 01: `takeBlocked` given) holds the session: the
// requests after it wait, in order, until the pop is served or times out;
// then its reply and theirs go out through `onLater`.

export type Execute = (args: Buffer[]) => Reply;

export interface SessionOutput {
  /** Replies to send, all requests of this read together; null when none. */
  bytes: Buffer | null;
  /** Close the connection once the bytes are sent (QUIT, or a fatal protocol error). */
  close: boolean;
}

export class Session {
  private readonly parser: RequestParser;
  private readonly replies = new ReplyWriter();
  private closed = false;
  private blockedPop: BlockedPop | null = null;
  private waiting: ParseEvent[] = []; // requests received while blocked
  /** Where output made later goes (a blocked pop served, and what followed it). */
  onLater: ((output: SessionOutput) => void) | null = null;

  constructor(
    private readonly execute: Execute,
    private readonly client: ClientState | null = null,
    limits: ParserLimits = DEFAULT_LIMITS,
    private readonly takeBlocked: (() => BlockedPop | null) | null = null,
  ) {
    this.parser = new RequestParser(limits);
  }

  /** Whether a BLPOP of this client is waiting (what follows it waits too). */
  get blocked(): boolean {
    return this.blockedPop !== null;
  }

  /** The client is gone: forget its state (CLIENT LIST) and its blocked pop. */
  close(): void {
    this.client?.close();
    this.blockedPop?.cancel();
    this.blockedPop = null;
  }

  receive(chunk: Buffer): SessionOutput {
    if (this.closed) return { bytes: null, close: true };
    const events = this.parser.push(chunk);
    if (this.blockedPop !== null) {
      for (const event of events) this.waiting.push(event);
      return { bytes: null, close: false };
    }
    return this.run(events);
  }

  private run(events: ParseEvent[]): SessionOutput {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.kind === 'error') {
        this.replies.reply(error(ErrorCode.PROTOCOL_ERROR, event.message));
        if (event.fatal) this.closed = true;
        continue;
      }
      if (isQuit(event.args)) {
        this.replies.reply(OK);
        this.closed = true;
        break; // whatever follows QUIT is not executed
      }
      const own = this.client?.handle(event.args) ?? null;
      if (own === null) {
        const reply = this.execute(event.args);
        const blocked = reply === BLOCKED ? this.takeBlocked?.() ?? null : null;
        if (blocked === null) {
          this.replies.reply(reply);
          continue;
        }
        this.blockedPop = blocked;
        this.waiting = events.slice(i + 1);
        void blocked.reply.then((served) => {
          if (this.blockedPop !== blocked) return; // cancelled: the client is gone
          this.blockedPop = null;
          this.replies.reply(served);
          const rest = this.waiting;
          this.waiting = [];
          this.onLater?.(this.run(rest));
        });
        break;
      } else {
        this.replies.protocol = this.client!.protocol; // HELLO may have changed it; its own reply is in the new one
        this.replies.reply(own);
      }
    }
    const bytes = this.replies.size === 0 ? null : this.replies.take();
    return { bytes, close: this.closed };
  }
}
