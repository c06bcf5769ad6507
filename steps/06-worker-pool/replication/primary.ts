import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Sequencer } from '../../../shared/persistence/sequencer.ts';
import { valueAndCrlf, type PersistTask } from '../../../shared/persistence/task.ts';
import { encodeCommand } from '../../../shared/protocol/encode.ts';
import { OK, array, bulk, error, integer, type Reply } from '../../../shared/protocol/reply.ts';
import { RequestParser, type ParseEvent } from '../../../shared/protocol/request-parser.ts';
import { log, peerName } from '../../../shared/server/log.ts';
import { Backlog } from './backlog.ts';
import { encodeRdb, type RdbEntry } from './rdb.ts';

// The primary's side of Redis's replication protocol.
//
//   replica -> PING, REPLCONF listening-port <port>, REPLCONF capa eof capa psync2,
//              PSYNC <replid> <offset>   (PSYNC ? -1 the first time)
//   primary -> +FULLRESYNC <replid> <offset>, $<length>\r\n<RDB>   (no CRLF after it)
//           or +CONTINUE <replid>, then the bytes it missed, from the backlog
//   primary -> every write, as the RESP command a client could have sent
//   replica -> REPLCONF ACK <offset>  (every second, and when asked by GETACK)
//
// THE STREAM is made here, on the event loop, from the persistence tasks: the
// same records the worker processes append to the logs (`SET <seq> key value`,
// `DEL <seq> key`), minus their sequence number. Every write already passes
// through the event loop on its way to the persister (the pool threads send
// theirs back with their replies), numbered under the store lock; a
// Sequencer puts them back in that order, the order in which they were
// applied. The worker processes could send the stream instead, but each sees
// only its share of the keys (by-key routing): one replica would need one
// link per worker process and could not rebuild the order. So the order lives
// in one place, the event loop, at the cost of one copy of each record into
// the backlog and each replica's socket (measured in docs/step-06-measurements.md).
//
// A transaction (EXEC) is sent as MULTI ... EXEC around its writes, so a
// replica applies it at once too; FLUSHDB reaches the stream as its DELs.
//
// THE SNAPSHOT of a full resync: the store's entries copied under its read
// lock, together with the next sequence number taken under the same lock.
// Every write numbered below it is in the snapshot, none from it on. The
// replica is attached to the stream at exactly that point: +FULLRESYNC waits
// until the Sequencer has released every write before it (writes of pool
// threads may still be on their way), then names the stream offset there.
//
// THE OFFSET (master_repl_offset) counts the bytes of the stream since this
// primary's first replica asked for it (before that there is no stream, as
// in Redis: no backlog until a replica), under a 40-character replication id
// new at every start: a restarted primary is another history, so its
// replicas resync in full.

export interface PrimaryOptions {
  /** The sequence number of the first write to come (the persister's firstSeq). */
  firstSeq: number;
  /** The store's keys (strings and lists, with their expiry times) and the next sequence number, taken under one read lock. */
  snapshot(): { entries: RdbEntry[]; nextSeq: number };
  /** The next sequence number now (WAIT waits for the stream to reach it). */
  nextSeq(): number;
  /** repl-backlog-size, bytes. */
  backlogBytes: number;
  /** client-output-buffer-limit replica (hard): past this much unsent, the replica is cut off. */
  outputLimitBytes: number;
  /** Seconds between PINGs in the stream (repl-ping-replica-period). */
  pingSeconds?: number;
  /** After this many ms stuck on one missing sequence number, the stream says so in the log (default 5,000). */
  stallWarnMs?: number;
  /** Where that warning goes (default: the server's log). */
  warn?: (message: string) => void;
}

/** What a replication command asks of the connection. */
export type ReplicationAnswer =
  | { reply: Reply }
  /** Reply later (WAIT); the connection first hands its writes over (`start` is called after that). */
  | { later: () => Promise<Reply> }
  /** PSYNC: once its earlier replies are out, the socket becomes a replica link. */
  | { handOver: (socket: Socket, parser: RequestParser, rest: ParseEvent[]) => void };

/** One connected replica, as the primary sees it. */
class ReplicaLink {
  state: 'wait_bgsave' | 'online' = 'wait_bgsave';
  ackOffset = 0;
  lastAckAt = Date.now();
  constructor(
    readonly socket: Socket,
    readonly ip: string,
    readonly port: number,
  ) {}
}

interface Waiter {
  target: number;
  wanted: number;
  resolve: (count: number) => void;
}

const GETACK = encodeCommand(['REPLCONF', 'GETACK', '*']);
const PING = encodeCommand(['PING']);
const MULTI = encodeCommand(['MULTI']);
const EXEC = encodeCommand(['EXEC']);
const CR = 0x0d;
/** How long the stream's bytes may wait to be sent (see scheduleFlush). */
const FLUSH_DELAY_MS = 1;

/** A new replication id: 40 hexadecimal characters, as Redis's. */
export function newReplid(): string {
  return randomBytes(20).toString('hex');
}

const DEL_NAME = Buffer.from('$3\r\nDEL\r\n');
const PERSIST_NAME = Buffer.from('$7\r\nPERSIST\r\n');
const KEEPTTL = Buffer.from('$7\r\nKEEPTTL\r\n');
const TWO = Buffer.from('*2\r\n');
const FOUR = Buffer.from('*4\r\n');

/**
 * The client command of a persistence record: `*N $3 DEL $k <seq> ...`
 * becomes `*N-1 $3 DEL ...`, with the same bytes after the number. Returned
 * as parts (no copy of the value). Three records mean something else than
 * the Redis command of their name, and are translated:
 *   `SET <seq> k v` -> `SET k v KEEPTTL`: the record is the store's set,
 *       which keeps the key's time (INCR, INCRBY, DECR, INCRBYFLOAT store
 *       their result that way, and keep the time, as in Redis); a plain SET
 *       that forgets the time is logged as a second record, PEXPIREAT k 0
 *       (PERSIST below). A plain `SET k v` would drop the time on every
 *       replica. (Redis itself sends INCRBYFLOAT as `SET k v KEEPTTL`.)
 *   `TYPE <seq> k 2` (k becomes a list) -> `DEL k`: a new list is logged as
 *       `SET k ""`, `TYPE k 2`, then its pushes; on a replica the SET is
 *       undone and the first RPUSH/LPUSH creates the list, as in Redis.
 *   `PEXPIREAT <seq> k 0` (the time removed) -> `PERSIST k`.
 * Another TYPE (a string's tag: never logged today) sends nothing. The rest
 * (DEL, PEXPIREAT k ms, RPUSH/LPUSH k element, LPOP/RPOP k) are Redis's
 * commands with Redis's arities as they are. `value`: a big SET's (task.ts).
 */
export function commandOfRecord(record: Uint8Array, value?: Uint8Array): Buffer[] {
  const bytes = Buffer.isBuffer(record) ? record : Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const headerEnd = crAt(bytes, 0);
  const count = digitsAt(bytes, 1, headerEnd);
  const nameEnd = skipBulk(bytes, headerEnd + 2);
  const seqEnd = skipBulk(bytes, nameEnd);
  if (count === 4) {
    // SET, the usual record, told by its bytes ($3\r\nSET\r\n): no string made.
    if (nameEnd - headerEnd === 11 && bytes[headerEnd + 6] === 0x53 && bytes[headerEnd + 7] === 0x45 && bytes[headerEnd + 8] === 0x54) {
      return [FOUR, bytes.subarray(headerEnd + 2, nameEnd), bytes.subarray(seqEnd), ...(value === undefined ? [] : valueAndCrlf(value)), KEEPTTL];
    }
    const name = bulkText(bytes, headerEnd + 2, nameEnd);
    if (name === 'TYPE' || name === 'PEXPIREAT') {
      const keyEnd = skipBulk(bytes, seqEnd);
      const arg = bulkText(bytes, keyEnd, bytes.length);
      if (name === 'TYPE') return arg === '2' ? [TWO, DEL_NAME, bytes.subarray(seqEnd, keyEnd)] : [];
      if (arg === '0') return [TWO, PERSIST_NAME, bytes.subarray(seqEnd, keyEnd)];
    }
  }
  return [ARRAY_HEADERS[count - 1] ?? Buffer.from(`*${count - 1}\r\n`), bytes.subarray(headerEnd + 2, nameEnd), bytes.subarray(seqEnd)];
}

// commandOfRecord runs for every write a replica gets: its helpers are
// plain functions at module level (no closures made per call), and the
// array headers of the usual arities are made once.
const ARRAY_HEADERS = Array.from({ length: 16 }, (_, n) => Buffer.from(`*${n}\r\n`));

/** The decimal number in bytes[from, to). */
function digitsAt(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + bytes[i]! - 48;
  return n;
}

/**
 * Where the first CR at or after `at` is (the end of a header line). A loop:
 * a header is a few bytes, and indexOf is a call into C++ each time.
 */
function crAt(bytes: Buffer, at: number): number {
  while (at < bytes.length && bytes[at] !== CR) at++;
  return at;
}

/** Where the bulk string that starts at `at` (`$<len>\r\n<bytes>\r\n`) ends. */
function skipBulk(bytes: Buffer, at: number): number {
  const lineEnd = crAt(bytes, at);
  return lineEnd + 2 + digitsAt(bytes, at + 1, lineEnd) + 2;
}

/** The contents of the bulk string from `at` to `end`, as text. */
function bulkText(bytes: Buffer, at: number, end: number): string {
  return bytes.toString('latin1', crAt(bytes, at) + 2, end - 2);
}

export class ReplicationPrimary {
  readonly replid = newReplid();
  private offset = 0;
  private readonly backlog: Backlog;
  private readonly sequencer: Sequencer<PersistTask>;
  private readonly links = new Set<ReplicaLink>();
  /** REPLCONF listening-port of connections that have not sent PSYNC yet. */
  private readonly announcedPorts = new WeakMap<Socket, number>();
  /** Transactions: first sequence number -> last. */
  private readonly transactions = new Map<number, number>();
  private transactionEnd = -1;
  private pending: Buffer[] = [];
  private flushScheduled = false;
  /**
   * Whether writes become stream bytes: not until the first replica asks
   * (PSYNC or SYNC), as Redis creates its backlog then. Until that moment a
   * server with no replica pays nothing for replication but the Sequencer,
   * and its offset stays 0; the first replica resyncs in full in any case.
   */
  private streaming = false;
  private pendingSyncs: Array<{ nextSeq: number; start: () => void }> = [];
  private seqWaiters: Array<{ seq: number; resolve: () => void }> = [];
  private waiters: Waiter[] = [];
  private readonly pingTimer: NodeJS.Timeout;
  /** Replicas cut off for not reading (INFO). */
  private cutOff = 0;
  /** The sequence number the stream has been waiting for, since when, and whether the log was told. */
  private stall: { seq: number; since: number; warned: boolean } | null = null;
  private readonly stallTimer: NodeJS.Timeout;

  constructor(private readonly options: PrimaryOptions) {
    this.backlog = new Backlog(options.backlogBytes);
    this.sequencer = new Sequencer(options.firstSeq, (task) => this.release(task));
    this.pingTimer = setInterval(() => {
      if (this.links.size > 0) { this.append(PING); this.flush(); }
    }, (options.pingSeconds ?? 10) * 1000);
    this.pingTimer.unref();
    const stallWarnMs = options.stallWarnMs ?? 5000;
    this.stallTimer = setInterval(() => this.checkStall(stallWarnMs), Math.min(1000, stallWarnMs));
    this.stallTimer.unref();
  }

  /**
   * A write numbered but never fed (a hole in the numbers) holds back every
   * later one for good: replicas get nothing more, WAIT counts none, a new
   * replica waits for its full resync (state=wait_bgsave). That must not
   * happen (every task reaches feed() with the persister's, through
   * server.ts's persistAndReplicate), but if it does, it must not go unseen: INFO shows
   * repl_stream_holding, and the log says it loudly once the same number has
   * been missing for stallWarnMs (and again when it comes).
   */
  private checkStall(stallWarnMs: number): void {
    const seq = this.sequencer.expected;
    const now = Date.now();
    if (this.stall !== null && (this.stall.seq !== seq || this.sequencer.holding === 0)) {
      if (this.stall.warned) this.warn(`replication: the stream goes on: write #${this.stall.seq} came after ${now - this.stall.since} ms`);
      this.stall = null;
    }
    if (this.sequencer.holding === 0) return;
    if (this.stall === null) { this.stall = { seq, since: now, warned: false }; return; }
    if (!this.stall.warned && now - this.stall.since >= stallWarnMs) {
      this.stall.warned = true;
      this.warn(`replication: THE STREAM IS STALLED: write #${seq} has not reached it for ${now - this.stall.since} ms, ` +
        `and ${this.sequencer.holding} later writes wait behind it; replicas get nothing more, and new ones wait for their ` +
        `full resync, until it comes. A write handed to the persister without replication.feed() is a bug ` +
        `(every task must go through persistAndReplicate() in server.ts); a pool thread's job still running would be the other reason.`);
    }
  }

  private warn(message: string): void {
    (this.options.warn ?? log)(message);
  }

  /** The offset of the stream's end (INFO's master_repl_offset). */
  get replOffset(): number {
    return this.offset;
  }

  /** The writes that were applied (numbered under the store lock), in any order. */
  feed(tasks: readonly PersistTask[]): void {
    if (tasks.length === 0) return;
    for (const task of tasks) this.sequencer.accept(task);
    this.scheduleFlush();
    this.startDueSyncs();
  }

  /**
   * The stream leaves at most FLUSH_DELAY_MS after a write: every write of
   * that millisecond in one backlog append and one socket write per replica,
   * not one each (with 50 clients and no pipelining, a write each was a
   * system call per SET; once per turn of the event loop, as Redis's
   * beforeSleep, still cost 7% of the loop's busy time in a CPU profile).
   * WAIT, a full resync and the keep-alive PING flush at once.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0) return;
    this.flushScheduled = true;
    setTimeout(() => {
      this.flushScheduled = false;
      this.flush();
    }, FLUSH_DELAY_MS);
  }

  /** The writes numbered first..last were one transaction (EXEC): sent as MULTI ... EXEC. */
  transaction(first: number, last: number): void {
    if (last >= first) this.transactions.set(first, last);
  }

  private release(task: PersistTask): void {
    const last = this.transactions.size === 0 ? undefined : this.transactions.get(task.seq); // (no lookup per write without EXECs)
    if (last !== undefined) {
      this.transactions.delete(task.seq);
      if (this.streaming) this.append(MULTI);
      this.transactionEnd = last;
    }
    if (this.streaming) for (const part of commandOfRecord(task.record, task.value)) this.append(part);
    if (task.seq === this.transactionEnd) {
      if (this.streaming) this.append(EXEC);
      this.transactionEnd = -1;
    }
  }

  private append(bytes: Buffer): void {
    this.pending.push(bytes);
    this.offset += bytes.length;
  }

  /** Sends what was appended: to the backlog and every online replica, in one write each. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.backlog.append(bytes);
    for (const link of this.links) if (link.state === 'online') this.send(link, bytes);
  }

  private send(link: ReplicaLink, bytes: Uint8Array): void {
    if (link.socket.destroyed) return;
    link.socket.write(bytes);
    if (link.socket.writableLength > this.options.outputLimitBytes) {
      this.cutOff++;
      log(`replica ${link.ip}:${link.port} is ${link.socket.writableLength} bytes behind, past the output limit ` +
        `(${this.options.outputLimitBytes}): closing its link`);
      link.socket.destroy();
    }
  }

  private startDueSyncs(): void {
    const expected = this.sequencer.expected;
    if (this.pendingSyncs.length > 0) {
      const due = this.pendingSyncs.filter((sync) => sync.nextSeq <= expected);
      this.pendingSyncs = this.pendingSyncs.filter((sync) => sync.nextSeq > expected);
      for (const sync of due) sync.start();
    }
    if (this.seqWaiters.length > 0) {
      const due = this.seqWaiters.filter((w) => w.seq <= expected);
      this.seqWaiters = this.seqWaiters.filter((w) => w.seq > expected);
      for (const w of due) w.resolve();
    }
  }

  /**
   * Replication's commands: REPLCONF, PSYNC/SYNC, WAIT, ROLE. Null for any
   * other command. `socket` is the connection's.
   */
  answer(args: Buffer[], socket: Socket): ReplicationAnswer | null {
    const name = args[0]!.toString('latin1').toUpperCase();
    switch (name) {
      case 'REPLCONF': return { reply: this.replconf(args, socket) };
      case 'PSYNC':
      case 'SYNC': {
        if (name === 'PSYNC' && args.length !== 3) return { reply: error('ERR', "wrong number of arguments for 'psync' command") };
        const replid = name === 'PSYNC' ? args[1]!.toString('latin1') : '?';
        const offset = name === 'PSYNC' ? Number(args[2]!.toString('latin1')) : -1;
        return { handOver: (sock, parser, rest) => this.adopt(sock, parser, rest, replid, offset, name === 'SYNC') };
      }
      case 'WAIT': {
        if (args.length !== 3) return { reply: error('ERR', "wrong number of arguments for 'wait' command") };
        const wanted = Number(args[1]!.toString('latin1'));
        const timeoutMs = Number(args[2]!.toString('latin1'));
        if (!Number.isInteger(wanted) || !Number.isInteger(timeoutMs) || timeoutMs < 0) {
          return { reply: error('ERR', 'value is not an integer or out of range') };
        }
        return { later: () => this.wait(wanted, timeoutMs).then((count) => integer(count)) };
      }
      case 'ROLE': {
        const replicas = [...this.links].filter((l) => l.state === 'online')
          .map((l) => array([bulk(l.ip), bulk(String(l.port)), bulk(String(l.ackOffset))]));
        return { reply: array([bulk('master'), integer(this.offset), array(replicas)]) };
      }
      default: return null;
    }
  }

  private replconf(args: Buffer[], socket: Socket): Reply {
    const option = args[1]?.toString('latin1').toLowerCase();
    if (option === 'listening-port') {
      const port = Number(args[2]?.toString('latin1'));
      if (!Number.isInteger(port) || port < 0 || port > 65535) return error('ERR', 'value is not an integer or out of range');
      this.announcedPorts.set(socket, port);
      return OK;
    }
    if (args.length % 2 === 0) return error('ERR', 'syntax error');
    return OK; // capa eof, capa psync2, ip-address...: noted, nothing to change
  }

  /** PSYNC or SYNC: this socket is a replica from now on. */
  private adopt(socket: Socket, parser: RequestParser, rest: ParseEvent[], replid: string, offset: number, oldSync: boolean): void {
    this.streaming = true;
    const link = new ReplicaLink(socket, socket.remoteAddress?.replace(/^::ffff:/, '') ?? '?', this.announcedPorts.get(socket) ?? 0);
    const name = peerName(socket);
    const onEvents = (events: ParseEvent[]) => {
      for (const event of events) {
        if (event.kind === 'error') {
          log(`replica ${name} sent bad bytes (${event.message}): closing its link`);
          socket.destroy();
          return;
        }
        const [command, sub, value] = event.args;
        if (command?.toString('latin1').toUpperCase() === 'REPLCONF' && sub?.toString('latin1').toUpperCase() === 'ACK') {
          const acked = Number(value?.toString('latin1'));
          if (Number.isInteger(acked) && acked >= link.ackOffset) link.ackOffset = acked;
          link.lastAckAt = Date.now();
          this.checkWaiters();
        } // anything else a replica sends on its link is ignored, as Redis does
      }
    };
    let start: (() => void) | null = null; // a full resync waiting for its point in the stream
    this.links.add(link);
    socket.on('data', (chunk: Buffer) => onEvents(parser.push(chunk)));
    socket.on('close', () => {
      this.links.delete(link);
      this.pendingSyncs = this.pendingSyncs.filter((s) => s.start !== start);
      log(`replica ${name} disconnected (${this.links.size} left)`);
      this.checkWaiters();
    });
    onEvents(rest);

    // PSYNC names the first byte it lacks, counting from 1 (Redis's convention): offset - 1 in ours.
    const continued = !oldSync && replid === this.replid ? this.backlog.from(offset - 1) : null;
    if (continued !== null) {
      log(`replica ${name} resumes at offset ${offset}: +CONTINUE with ${continued.length} bytes from the backlog`);
      socket.write(`+CONTINUE ${this.replid}\r\n`);
      link.state = 'online';
      link.ackOffset = offset - 1;
      this.send(link, continued);
      return;
    }
    const snapshot = this.options.snapshot();
    const rdb = encodeRdb(snapshot.entries);
    start = () => {
      if (socket.destroyed) return;
      this.flush();
      log(`replica ${name}: full resync at offset ${this.offset}, ${snapshot.entries.length} keys, RDB of ${rdb.length} bytes`);
      if (!oldSync) socket.write(`+FULLRESYNC ${this.replid} ${this.offset}\r\n`);
      socket.write(`$${rdb.length}\r\n`);
      link.state = 'online';
      link.ackOffset = this.offset;
      this.send(link, rdb);
    };
    if (snapshot.nextSeq <= this.sequencer.expected) start();
    else this.pendingSyncs.push({ nextSeq: snapshot.nextSeq, start });
  }

  /**
   * WAIT: how many replicas have acknowledged every write this connection
   * made before it. The connection has handed its writes over; we wait until
   * the stream holds every write numbered so far (its own included), so the
   * target is an offset at or past its last write: stricter than Redis's own
   * per-client offset, never looser. A shortfall is just a number: nothing is
   * rolled back, the writes stay applied here and may yet reach the replicas.
   */
  private async wait(wanted: number, timeoutMs: number): Promise<number> {
    const seq = this.options.nextSeq();
    const started = Date.now();
    if (seq > this.sequencer.expected) {
      // The timeout covers this wait too: with writes that never reach the
      // stream, no replica can have them (0), and WAIT must still answer.
      const inStream = await new Promise<boolean>((resolve) => {
        const waiter = { seq, resolve: () => { if (timer) clearTimeout(timer); resolve(true); } };
        const timer = timeoutMs > 0 ? setTimeout(() => {
          this.seqWaiters = this.seqWaiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs) : null;
        this.seqWaiters.push(waiter);
      });
      if (!inStream) return 0;
    }
    const timeLeftMs = timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - started)) : 0;
    this.flush();
    const target = this.offset;
    const count = this.ackedAt(target);
    if (count >= wanted || this.links.size === 0) return count;
    this.append(GETACK);
    this.flush();
    return new Promise((resolve) => {
      const waiter: Waiter = { target, wanted, resolve };
      const timer = timeLeftMs > 0 ? setTimeout(() => this.finishWaiter(waiter), timeLeftMs) : null;
      waiter.resolve = (n) => { if (timer) clearTimeout(timer); resolve(n); };
      this.waiters.push(waiter);
    });
  }

  /** Online replicas whose last ACK is at most `maxLagSeconds` old (min-replicas-max-lag). */
  goodReplicas(maxLagSeconds: number): number {
    const now = Date.now();
    let count = 0;
    for (const link of this.links) if (link.state === 'online' && (now - link.lastAckAt) / 1000 <= maxLagSeconds) count++;
    return count;
  }

  private ackedAt(target: number): number {
    let count = 0;
    for (const link of this.links) if (link.state === 'online' && link.ackOffset >= target) count++;
    return count;
  }

  private finishWaiter(waiter: Waiter): void {
    this.waiters = this.waiters.filter((w) => w !== waiter);
    waiter.resolve(this.ackedAt(waiter.target));
  }

  private checkWaiters(): void {
    for (const waiter of [...this.waiters]) {
      if (this.ackedAt(waiter.target) >= waiter.wanted) this.finishWaiter(waiter);
    }
  }

  /** INFO's replication section, with Redis's field names. */
  info(): Record<string, string | number> {
    const online = [...this.links];
    const fields: Record<string, string | number> = { role: 'master', connected_slaves: online.length };
    online.forEach((link, i) => {
      fields[`slave${i}`] = `ip=${link.ip},port=${link.port},state=${link.state},offset=${link.ackOffset},` +
        `lag=${Math.floor((Date.now() - link.lastAckAt) / 1000)}`;
    });
    Object.assign(fields, {
      master_failover_state: 'no-failover',
      master_replid: this.replid,
      master_replid2: '0'.repeat(40),
      master_repl_offset: this.offset,
      second_repl_offset: -1,
      repl_backlog_active: this.streaming ? 1 : 0,
      repl_backlog_size: this.backlog.capacity,
      repl_backlog_first_byte_offset: this.backlog.start + 1,
      repl_backlog_histlen: this.backlog.size,
      repl_replicas_cut_off: this.cutOff,
      repl_stream_holding: this.sequencer.holding,
    });
    return fields;
  }

  /** Closes every replica link (shutdown). */
  close(): void {
    clearInterval(this.pingTimer);
    clearInterval(this.stallTimer);
    for (const link of this.links) link.socket.end();
  }
}
