import { RequestParser, DEFAULT_LIMITS, type ParserLimits } from '../protocol/request-parser.ts';
import { appendReply } from '../protocol/encode.ts';
import { ErrorCode, OK, error, type Reply } from '../protocol/reply.ts';

// One client's conversation: bytes in, reply bytes out. It owns the parser (so
// framing is per connection) and hands each complete request to `execute`.
// Whatever runs the session (the event loop in step 01, a Worker thread in
// step 02...) only moves bytes between the socket and `receive`.

export type Execute = (args: Buffer[]) => Reply;

export interface SessionOutput {
  /** Replies to send, all requests of this read together; null when none. */
  bytes: Buffer | null;
  /** Close the connection once the bytes are sent (QUIT, or a fatal protocol error). */
  close: boolean;
}

export class Session {
  private readonly parser: RequestParser;
  private closed = false;

  constructor(private readonly execute: Execute, limits: ParserLimits = DEFAULT_LIMITS) {
    this.parser = new RequestParser(limits);
  }

  /** Requests executed so far (for figures). */
  commandsExecuted = 0;

  receive(chunk: Buffer): SessionOutput {
    if (this.closed) return { bytes: null, close: true };
    const parts: Buffer[] = [];
    for (const event of this.parser.push(chunk)) {
      if (event.kind === 'error') {
        appendReply(error(ErrorCode.PROTOCOL_ERROR, event.message), parts);
        if (event.fatal) this.closed = true;
        continue;
      }
      // QUIT belongs to the connection, not to the store.
      if (event.args.length === 1 && event.args[0]!.toString('latin1').toUpperCase() === 'QUIT') {
        appendReply(OK, parts);
        this.closed = true;
        break; // whatever follows QUIT is not executed
      }
      this.commandsExecuted++;
      appendReply(this.execute(event.args), parts);
    }
    const bytes = parts.length === 0 ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return { bytes, close: this.closed };
  }
}
