import { existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { belongsTo, partsInOrder, readManifest, removeUnreferenced, type Manifest } from './log-parts.ts';
import path from 'node:path';
import type { Store } from '../store/store.ts';
import type { Lists } from '../store/lists.ts';

// Start-up: read the logs and rebuild the store from them.
//
// Replay applies the records of each log in the order they are in the file
// (logs one after the other). That is only right if, for every key, its
// records sit in one log in the order they were applied. Step 04 (one worker,
// one FIFO path) and step 05's by-key dispatch guarantee it; step 05's free
// dispatch does not. Replay therefore also CHECKS the order: each record
// carries its sequence number, and a key whose numbers go backwards in the
// log is counted in `outOfOrder`. That count is how the hazard becomes
// visible (and testable).
//
// A crash can cut the last record short. Replay ignores such a tail and
// truncates the file to the last whole record, so that new records are not
// appended after half of one. Anything that is not a record at all is
// corruption: replay refuses to start rather than guess.
//
// Step 06 rewrites its logs while serving (log-rewrite.ts): a log is then a
// base and incr files named by a manifest (log-parts.ts), replayed in order.
//
// THE RECORDS. `SET <seq> <key> <value>` and `DEL <seq> <key>`; since issue
// 13 also `PEXPIREAT <seq> <key> <ms>` (0: no expiry), `TYPE <seq> <key>
// <tag>` and a list's `RPUSH`/`LPUSH <seq> <key> <element>` and
// `RPOP`/`LPOP <seq> <key>` (recording-store.ts, shared/store/lists.ts).
// Applied as the live server applied them (applyRecord): SET replaces the
// value, makes the key a string and drops a list's elements, but keeps the
// expiry time (a plain SET that forgets one is logged with `PEXPIREAT 0`
// after it, as the live SET does it: expiry-commands.ts); DEL drops
// everything.

export interface ReplayResult {
  files: string[];
  records: number;
  /** Entries in the store afterwards. */
  keys: number;
  /** The highest sequence number seen (0 when the logs are empty). */
  lastSeq: number;
  /** Records whose key had already seen a higher sequence number. */
  outOfOrder: number;
  /** One of them, in words, for the log. */
  outOfOrderExample?: string;
  /** Bytes of a cut-short last record, removed. */
  truncatedBytes: number;
  /** Parts of an interrupted or finished rewrite that no manifest names, removed. */
  removedParts: string[];
}

/** The logs cannot be replayed as they are: corrupted, or written with another layout. */
export class ReplayRefusedError extends Error {}

/**
 * Replays the logs `files` (names inside `dataDir`; missing ones count as
 * empty) into `store`, one after the other; a log with parts (a base and
 * incr files, see log-parts.ts) in its manifest's order. Refuses
 * (ReplayRefusedError) when the folder holds other .aof files: a log written
 * with another layout (another --workers or --dispatch) cannot be replayed
 * in a meaningful order with this one. The caller owns the folder: parts no
 * manifest names are deleted, a cut-short last record is cut off.
 */
export function replayLogs(dataDir: string, files: string[], store: Store, lists?: Lists): ReplayResult {
  if (existsSync(dataDir)) {
    const strangers = readdirSync(dataDir).filter((name) => name.endsWith('.aof') && !files.some((log) => belongsTo(name, log)));
    if (strangers.length > 0) {
      throw new ReplayRefusedError(
        `${dataDir} holds logs of another layout (${strangers.join(', ')}; expected ${files.join(', ')}). ` +
          'Start with the options that wrote them (--workers, and in step 05 --dispatch), or use another --data-dir.',
      );
    }
  }
  const result: ReplayResult = { files, records: 0, keys: 0, lastSeq: 0, outOfOrder: 0, truncatedBytes: 0, removedParts: [] };
  // The order check, cheaply: a key's numbers can only go backwards where
  // the log's numbers do. A base holds a key's state as a few records in
  // their order (log-rewrite.ts), older than every incr record, so it is
  // skipped; the incr files are checked as one stream,
  // and only if that stream goes backwards somewhere is it checked key by key
  // (a second pass, so a log in order pays nothing per key).
  let previousSeq = 0;
  let inOrder = true;
  const checked: Array<{ name: string; bytes: Buffer }> = [];
  for (const log of files) {
    if (!existsSync(dataDir)) break;
    let manifest: Manifest;
    try {
      manifest = readManifest(dataDir, log);
      result.removedParts.push(...removeUnreferenced(dataDir, log));
    } catch (caught) {
      throw new ReplayRefusedError(`${(caught as Error).message} (move the files away to start empty)`);
    }
    previousSeq = 0; // each log is its own stream
    for (const name of partsInOrder(manifest)) {
      const file = path.join(dataDir, name);
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      const isBase = name === manifest.base;
      const end = scanRecords(bytes, file, (op, seq, key, arg) => {
        applyRecord(op, key, arg, store, lists);
        result.records++;
        if (seq > result.lastSeq) result.lastSeq = seq;
        if (isBase) return;
        if (seq < previousSeq) inOrder = false;
        previousSeq = seq;
      });
      if (!isBase) checked.push({ name, bytes: bytes.subarray(0, end) });
      if (end < bytes.length) {
        truncateSync(file, end);
        result.truncatedBytes += bytes.length - end;
      }
    }
  }
  if (!inOrder) countOutOfOrder(checked, result);
  result.keys = store.size();
  return result;
}

/** Records whose numbers went backwards for their key (the slow pass, see replayLogs). */
function countOutOfOrder(logs: Array<{ name: string; bytes: Buffer }>, result: ReplayResult): void {
  const lastSeqOfKey = new Map<string, number>();
  for (const { name, bytes } of logs) {
    scanRecords(bytes, name, (_op, seq, key) => {
      const id = key.toString('latin1');
      const before = lastSeqOfKey.get(id);
      if (before === undefined || seq > before) lastSeqOfKey.set(id, seq);
      else if (seq < before) {
        result.outOfOrder++;
        result.outOfOrderExample ??= `key '${key.toString()}': seq ${seq} comes after seq ${before} in ${name}`;
      }
    });
  }
}

/**
 * One record, applied as it was applied before the restart. Expiry times are
 * absolute, so a key whose time passed while the server was down comes back
 * expired, and the active cycle reclaims it (logging a DEL), as Redis does.
 */
export function applyRecord(op: RecordOp, key: Buffer, arg: Buffer | null, store: Store, lists: Lists | undefined): void {
  switch (op) {
    case 'SET': store.set(key, arg!); lists?.forget(key); return; // a list overwritten by SET: its elements go
    case 'DEL': store.delete(key); lists?.forget(key); return;
    case 'PEXPIREAT': store.setExpiresAt?.(key, Number(arg!.toString('latin1'))); return;
    case 'TYPE': store.setType?.(key, Number(arg!.toString('latin1'))); return;
    default: lists?.applyLogged(op, key, arg ?? undefined); // a list's RPUSH, LPUSH, RPOP, LPOP
  }
}

/** The records a log may hold, with their number of parts. */
export const RECORD_PARTS = { SET: 4, DEL: 3, PEXPIREAT: 4, TYPE: 4, LPUSH: 4, RPUSH: 4, LPOP: 3, RPOP: 3 } as const;
export type RecordOp = keyof typeof RECORD_PARTS;
const OPS = new Map<string, RecordOp>(Object.keys(RECORD_PARTS).map((op) => [op, op as RecordOp]));

/**
 * Calls `visit` for each complete record of a log, in order, and returns
 * where the last one ends (less than bytes.length when the tail is cut
 * short). A record is a RESP array:
 * `*4\r\n$3\r\nSET\r\n$<n>\r\n<seq>\r\n$<n>\r\n<key>\r\n$<n>\r\n<value>\r\n`
 * (or `*3` and DEL without the value; the other operations of RECORD_PARTS
 * alike, `arg` null for those of 3 parts). Anything else is corruption
 * (ReplayRefusedError). Written for speed (start-up replays millions of
 * records): digits are read by hand, SET and DEL are told by their bytes,
 * and key and arg are views of `bytes`; `at` is where the record starts in
 * `bytes` (it ends 2 bytes after `arg`, or `key` for a record of 3 parts).
 */
export function scanRecords(
  bytes: Buffer, name: string,
  visit: (op: RecordOp, seq: number, key: Buffer, arg: Buffer | null, at: number) => void,
): number {
  return scanRecordSpans(bytes, name, (op, seq, keyStart, keyEnd, argStart, argEnd, at) =>
    visit(op, seq, bytes.subarray(keyStart, keyEnd), argStart < 0 ? null : bytes.subarray(argStart, argEnd), at));
}

/**
 * scanRecords with the key and the arg as places in `bytes` (`argStart`
 * -1 when there is none) instead of views: no object made per record, for
 * a reader that needs only some of them (the log rewrite's fold reads
 * millions of records and keeps few).
 */
export function scanRecordSpans(
  bytes: Buffer, name: string,
  visit: (op: RecordOp, seq: number, keyStart: number, keyEnd: number, argStart: number, argEnd: number, at: number) => void,
): number {
  const length = bytes.length;
  let pos = 0;
  const corrupt = (): never => {
    throw new ReplayRefusedError(`${name} is corrupted at byte ${pos}: not a log record (move the file away to start empty)`);
  };
  // Reads `<prefix><digits>\r\n` at p; -1 when the bytes run out first.
  const header = (p: number, prefix: number): number => {
    if (p >= length) return -1;
    if (bytes[p] !== prefix) corrupt();
    let n = 0;
    let i = p + 1;
    for (; i < length && bytes[i] !== 13; i++) {
      const digit = bytes[i]! - 48;
      if (digit < 0 || digit > 9 || i - p > 10) corrupt();
      n = n * 10 + digit;
    }
    if (i + 1 >= length) return -1;
    if (i === p + 1 || bytes[i + 1] !== 10) corrupt();
    next = i + 2;
    return n;
  };
  let next = 0;
  for (;;) {
    if (pos === length) return pos;
    const count = header(pos, 0x2a); // '*'
    if (count === -1) return pos;
    if (count !== 3 && count !== 4) corrupt();
    let p = next;
    // The operation: $3\r\nSET\r\n, $3\r\nDEL\r\n, $9\r\nPEXPIREAT\r\n...
    const opLength = header(p, 0x24);
    if (opLength === -1) return pos;
    p = next;
    if (p + opLength + 2 > length) return pos;
    let op: RecordOp | undefined;
    if (opLength === 3 && bytes[p] === 0x53 && bytes[p + 1] === 0x45 && bytes[p + 2] === 0x54) op = 'SET';
    else if (opLength === 3 && bytes[p] === 0x44 && bytes[p + 1] === 0x45 && bytes[p + 2] === 0x4c) op = 'DEL';
    else op = opLength <= 9 ? OPS.get(bytes.toString('latin1', p, p + opLength)) : undefined;
    if (op === undefined || RECORD_PARTS[op] !== count) corrupt();
    p += opLength + 2;
    // The sequence number, as a bulk string of digits.
    const seqLength = header(p, 0x24);
    if (seqLength === -1 || next + seqLength + 2 > length) return pos;
    let seq = 0;
    for (let i = next; i < next + seqLength; i++) seq = seq * 10 + (bytes[i]! - 48);
    p = next + seqLength + 2;
    const keyLength = header(p, 0x24);
    if (keyLength === -1 || next + keyLength + 2 > length) return pos;
    const keyStart = next;
    p = next + keyLength + 2;
    let argStart = -1;
    let argEnd = -1;
    if (count === 4) {
      const argLength = header(p, 0x24);
      if (argLength === -1 || next + argLength + 2 > length) return pos;
      argStart = next;
      argEnd = next + argLength;
      p = argEnd + 2;
    }
    visit(op!, seq, keyStart, keyStart + keyLength, argStart, argEnd, pos);
    pos = p;
  }
}

/**
 * replayLogs for a server that is starting: a refused log ends the program
 * with a plain message and exit code 2 (the person must decide what to do
 * with the files), not with a stack trace.
 */
export function replayAtStartup(dataDir: string, files: string[], store: Store, lists?: Lists): ReplayResult {
  try {
    return replayLogs(dataDir, files, store, lists);
  } catch (caught) {
    if (!(caught instanceof ReplayRefusedError)) throw caught;
    console.error(`error: ${caught.message}`);
    process.exit(2);
  }
}
