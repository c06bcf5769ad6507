import net from 'node:net';
import { decimalLength, encodeCommand } from '../../../shared/protocol/encode.ts';
import { DEFAULT_LIMITS, RequestParser, type ParserLimits } from '../../../shared/protocol/request-parser.ts';
import { MAX_ITEM_BYTES } from '../../../shared/store/growable-store.ts';
import { log } from '../../../shared/server/log.ts';
import { spelledAs } from '../../../shared/commands/parse.ts';
import { RdbError, decodeRdb, type RdbEntry } from './rdb.ts';

// The replica's side: a link to a primary (ours or a real redis-server).
//
//   1. connect, then the handshake a Redis 7 replica sends, one command at a
//      time: PING, REPLCONF listening-port <ours>, REPLCONF capa eof capa
//      psync2, PSYNC <replid> <offset+1> (PSYNC ? -1 the first time);
//   2. +FULLRESYNC <replid> <offset>: read the RDB (`$<length>\r\n<bytes>`,
//      or diskless `$EOF:<40-byte mark>\r\n<bytes><mark>`), replace the whole
//      store with it; +CONTINUE: keep the store, the missed bytes follow;
//   3. the stream: apply each command (MULTI ... EXEC at once), count its
//      bytes into our offset, answer REPLCONF GETACK with REPLCONF ACK, and
//      send REPLCONF ACK <offset> every second anyway;
//   4. the link drops (or the primary sends what we cannot parse or load):
//      say so in INFO (master_link_status:down), keep serving reads, and
//      reconnect after 100 ms, 200 ms, ... up to 5 s, resuming with PSYNC.
//
// The replica writes through the server's usual path (`apply`), so its
// writes are persisted to its own data folder like any other.

export interface ReplicaHooks {
  /**
   * Runs these commands on the store under one lock: a transaction of the
   * primary's (MULTI ... EXEC), or commands that came one after another in
   * one read of the stream. A promise while the persister is full (we stop
   * reading).
   */
  apply(commands: Buffer[][], transaction: boolean): Promise<void> | null;
  /** Full resync: the store becomes exactly these strings and lists, with their expiry times. */
  replaceAll(entries: RdbEntry[]): void;
  /** Our own port, for REPLCONF listening-port. */
  listeningPort(): number;
}

/** Commands of the stream applied together: a transaction, or plain commands read together. */
interface Group {
  commands: Buffer[][];
  transaction: boolean;
}

type LinkState = 'connect' | 'connecting' | 'handshake' | 'sync' | 'connected';

// The primary's commands are those its clients sent (an MSET of 100,000 keys,
// a 100 MB value): the stream is trusted up to what the store can hold.
const STREAM_LIMITS: ParserLimits = { ...DEFAULT_LIMITS, maxBulkBytes: MAX_ITEM_BYTES, maxArgs: 1 << 24, maxRequestBytes: 2 ** 31 };
const HANDSHAKE_REPLIES = 3; // PING, REPLCONF listening-port, REPLCONF capa
const MAX_BACKOFF_MS = 5000;

/** The length of a command as RESP bytes on the wire (the primary counts its offset so). */
function respLength(args: Buffer[]): number {
  let total = 3 + decimalLength(args.length); // *<count>\r\n
  for (const arg of args) total += 3 + decimalLength(arg.length) + arg.length + 2; // $<length>\r\n<bytes>\r\n
  return total;
}

// The commands the stream handles itself; the rest are applied as a
// client's. Told apart with spelledAs(), no string per command:
// toUpperCase took 2 % of a replica's CPU under redis-benchmark's SETs.
const CONTROL_COMMANDS = ['REPLCONF', 'PING', 'SELECT', 'MULTI', 'EXEC'] as const;
const GETACK = ['GETACK'] as const; // REPLCONF GETACK: the primary asks for our offset

export class Replica {
  state: LinkState = 'connect';
  /** The primary's replication id, once known, and the offset of the last byte applied. */
  replid = '?';
  offset = -1;
  private socket: net.Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private phase: 'handshake' | 'psync' | 'rdb' | 'stream' = 'handshake';
  private repliesSeen = 0;
  private parser = new RequestParser(STREAM_LIMITS);
  private transaction: Buffer[][] | null = null;
  private fullResync: { replid: string; offset: number } | null = null;
  private backoffMs = 100;
  private lastIoAt = Date.now();
  private stopped = false;
  private readonly ackTimer: NodeJS.Timeout;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Full resyncs and partial ones, for INFO and tests. */
  fullSyncs = 0;
  partialSyncs = 0;

  constructor(readonly host: string, readonly port: number, private readonly hooks: ReplicaHooks) {
    this.ackTimer = setInterval(() => this.ack(), 1000);
    this.ackTimer.unref();
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    this.phase = 'handshake';
    this.repliesSeen = 0;
    this.buffer = Buffer.alloc(0);
    this.parser = new RequestParser(STREAM_LIMITS);
    this.transaction = null;
    const socket = net.connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.state = 'handshake';
      socket.write(encodeCommand(['PING']));
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastIoAt = Date.now();
      try {
        this.receive(chunk);
      } catch (caught) {
        const what = caught instanceof RdbError ? "cannot load the primary's snapshot" : 'bad data from the primary';
        log(`replication: ${what}: ${(caught as Error).message}; closing the link`);
        socket.destroy();
      }
    });
    socket.on('error', (caught) => log(`replication: link to ${this.host}:${this.port}: ${caught.message}`));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.state = 'connect';
      if (this.stopped) return;
      log(`replication: link to ${this.host}:${this.port} down; retrying in ${this.backoffMs} ms`);
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    });
  }

  /** Takes one `\r\n`-ended line off the buffer, or null if incomplete. */
  private line(): string | null {
    const end = this.buffer.indexOf('\r\n');
    if (end < 0) return null;
    const text = this.buffer.toString('latin1', 0, end);
    this.buffer = this.buffer.subarray(end + 2);
    return text;
  }

  private receive(chunk: Buffer): void {
    if (this.phase === 'stream') { this.stream(chunk); return; }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.phase === 'handshake') {
      const reply = this.line();
      if (reply === null) return;
      if (this.repliesSeen === 0 && reply.startsWith('-') && !reply.startsWith('-ERR')) {
        throw new Error(`the primary refused PING: ${reply}`);
      }
      this.repliesSeen++; // errors to REPLCONF are ignored, as Redis does
      const socket = this.socket!;
      if (this.repliesSeen === 1) socket.write(encodeCommand(['REPLCONF', 'listening-port', String(this.hooks.listeningPort())]));
      else if (this.repliesSeen === 2) socket.write(encodeCommand(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']));
      else if (this.repliesSeen === HANDSHAKE_REPLIES) {
        socket.write(encodeCommand(['PSYNC', this.replid, String(this.offset + 1)]));
        this.phase = 'psync';
      }
    }
    if (this.phase === 'psync') {
      const reply = this.line();
      if (reply === null) return;
      const full = /^\+FULLRESYNC ([0-9a-zA-Z]{40}) (\d+)$/.exec(reply);
      const resumed = /^\+CONTINUE(?: ([0-9a-zA-Z]{40}))?$/.exec(reply);
      if (full) {
        // Ours only once the RDB is loaded: a snapshot we could not load must not be resumed from.
        this.fullResync = { replid: full[1]!, offset: Number(full[2]) };
        this.phase = 'rdb';
        this.state = 'sync';
      } else if (resumed) {
        if (resumed[1]) this.replid = resumed[1];
        this.partialSyncs++;
        log(`replication: +CONTINUE from ${this.host}:${this.port} at offset ${this.offset}`);
        this.online();
      } else {
        throw new Error(`unexpected reply to PSYNC: ${reply.slice(0, 200)}`);
      }
    }
    if (this.phase === 'rdb' && !this.readRdb()) return;
    if ((this.phase as string) === 'stream' && this.buffer.length > 0) { // (readRdb or +CONTINUE moved it on)
      const rest = this.buffer;
      this.buffer = Buffer.alloc(0);
      this.stream(rest);
    }
  }

  /** Reads the RDB once it is all here; true when it was loaded. */
  private readRdb(): boolean {
    while (this.buffer[0] === 0x0a) this.buffer = this.buffer.subarray(1); // keep-alive newlines while the primary saves
    const end = this.buffer.indexOf('\r\n');
    if (end < 0) return false;
    const header = this.buffer.toString('latin1', 0, end);
    let payload: Buffer;
    if (header.startsWith('$EOF:')) {
      const mark = this.buffer.subarray(5, end);
      if (mark.length !== 40) throw new Error(`bad diskless RDB mark ${JSON.stringify(header)}`);
      const at = this.buffer.indexOf(mark, end + 2);
      if (at < 0) return false;
      payload = this.buffer.subarray(end + 2, at);
      this.buffer = this.buffer.subarray(at + 40);
    } else if (/^\$\d+$/.test(header)) {
      const length = Number(header.slice(1));
      if (this.buffer.length < end + 2 + length) return false;
      payload = this.buffer.subarray(end + 2, end + 2 + length);
      this.buffer = this.buffer.subarray(end + 2 + length);
    } else {
      throw new Error(`expected the RDB's length, got ${JSON.stringify(header.slice(0, 80))}`);
    }
    const contents = decodeRdb(payload);
    this.hooks.replaceAll(contents.entries);
    this.replid = this.fullResync!.replid;
    this.offset = this.fullResync!.offset;
    this.fullSyncs++;
    log(`replication: full resync from ${this.host}:${this.port}: ${contents.entries.length} keys loaded from an RDB ` +
      `of ${payload.length} bytes (version ${contents.version}` +
      (contents.withTtl > 0 ? `; ${contents.withTtl} with an expiry time` : '') +
      (contents.expired > 0 ? `; ${contents.expired} already expired, skipped` : '') + ')');
    this.online();
    return true;
  }

  private online(): void {
    this.phase = 'stream';
    this.state = 'connected';
    this.backoffMs = 100;
    this.ack();
  }

  private stream(chunk: Buffer): void {
    // What one read brought, applied in groups: each transaction alone, and
    // the plain commands between them together (one lock, one hand-over to
    // the persister for a whole read, not one per command).
    // (No closure for "add a plain command": one made per read cost 3 % of
    // this function, tsx naming each.)
    const groups: Group[] = [];
    for (const event of this.parser.push(chunk)) {
      if (event.kind === 'error') {
        this.flushGroups(groups); // what came before the bad bytes was good
        throw new Error(`the primary's stream cannot be parsed (${event.message})`);
      }
      const args = event.args;
      const name = spelledAs(args[0]!, CONTROL_COMMANDS);
      const length = respLength(args);
      if (name === 'REPLCONF' && args[1] !== undefined && spelledAs(args[1], GETACK) !== null) {
        this.flushGroups(groups);
        this.ack(); // the offset before this command, as Redis answers
        this.offset += length;
        continue;
      }
      this.offset += length;
      if (name === 'PING' || name === 'SELECT') continue; // keep-alive; database 0 only
      if (name === 'MULTI') { this.transaction = []; continue; }
      if (name === 'EXEC') { groups.push({ commands: this.transaction ?? [], transaction: true }); this.transaction = null; continue; }
      if (this.transaction !== null) { this.transaction.push(args); continue; }
      const last = groups.at(-1); // plain commands join the group before, unless it is a transaction
      if (last !== undefined && !last.transaction) last.commands.push(args);
      else groups.push({ commands: [args], transaction: false });
    }
    this.flushGroups(groups);
  }

  private flushGroups(groups: Group[]): void {
    for (const group of groups.splice(0)) {
      if (group.commands.length === 0) continue;
      const full = this.hooks.apply(group.commands, group.transaction);
      if (full !== null && this.socket !== null) { // the persister is full: read no more until it has room
        const socket = this.socket;
        socket.pause();
        void full.then(() => socket.resume());
      }
    }
  }

  private ack(): void {
    if (this.state === 'connected' && this.socket !== null) {
      this.socket.write(encodeCommand(['REPLCONF', 'ACK', String(this.offset)]));
    }
  }

  /** REPLICAOF NO ONE, or another primary: close the link for good. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.ackTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
  }

  /** INFO's replication section of a replica, with Redis's field names. */
  info(): Record<string, string | number> {
    return {
      role: 'slave',
      master_host: this.host,
      master_port: this.port,
      master_link_status: this.state === 'connected' ? 'up' : 'down',
      master_last_io_seconds_ago: this.state === 'connected' ? Math.floor((Date.now() - this.lastIoAt) / 1000) : -1,
      master_sync_in_progress: this.state === 'sync' ? 1 : 0,
      slave_read_repl_offset: this.offset,
      slave_repl_offset: this.offset,
      slave_priority: 100,
      slave_read_only: 1,
      replica_announced: 1,
      master_replid: this.replid,
      master_repl_offset: this.offset,
      repl_full_syncs: this.fullSyncs,
      repl_partial_syncs: this.partialSyncs,
    };
  }
}
