import { existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
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
}

/** The logs cannot be replayed as they are: corrupted, or written with another layout. */
export class ReplayRefusedError extends Error {}

/**
 * Replays `files` (names inside `dataDir`; missing ones count as empty) into
 * `store`, in file order. Refuses (ReplayRefusedError) when the folder holds
 * other .aof files: a log written with another layout (another --workers or
 * --dispatch) cannot be replayed in a meaningful order with this one.
 */
export function replayLogs(dataDir: string, files: string[], store: Store, lists?: Lists): ReplayResult {
  if (existsSync(dataDir)) {
    const strangers = readdirSync(dataDir).filter((name) => name.endsWith('.aof') && !files.includes(name));
    if (strangers.length > 0) {
      throw new ReplayRefusedError(
        `${dataDir} holds logs of another layout (${strangers.join(', ')}; expected ${files.join(', ')}). ` +
          'Start with the --workers and --dispatch that wrote them, or use another --data-dir.',
      );
    }
  }
  const result: ReplayResult = { files, records: 0, keys: 0, lastSeq: 0, outOfOrder: 0, truncatedBytes: 0 };
  const lastSeqOfKey = new Map<string, number>();
  for (const name of files) {
    const file = path.join(dataDir, name);
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    const { records, end } = readRecords(bytes, file);
    for (const [op, seqText, key, value] of records) {
      const seq = Number(seqText!.toString('latin1'));
      const id = key!.toString('latin1');
      const before = lastSeqOfKey.get(id);
      if (before !== undefined && seq < before) {
        result.outOfOrder++;
        result.outOfOrderExample ??= `key '${key!.toString()}': seq ${seq} comes after seq ${before} in ${name}`;
      }
      lastSeqOfKey.set(id, Math.max(seq, before ?? seq));
      applyRecord(op!.toString('latin1'), key!, value, store, lists);
      result.records++;
      result.lastSeq = Math.max(result.lastSeq, seq);
    }
    if (end < bytes.length) {
      truncateSync(file, end);
      result.truncatedBytes += bytes.length - end;
    }
  }
  result.keys = store.size();
  return result;
}

/**
 * One record, applied as it was applied before the restart. Expiry times are
 * absolute, so a key whose time passed while the server was down comes back
 * expired, and the active cycle reclaims it (logging a DEL), as Redis does.
 */
function applyRecord(op: string, key: Buffer, arg: Buffer | undefined, store: Store, lists: Lists | undefined): void {
  switch (op) {
    case 'SET': store.set(key, arg!); return;
    case 'DEL': store.delete(key); lists?.forget(key); return;
    case 'PEXPIREAT': store.setExpiresAt?.(key, Number(arg!.toString('latin1'))); return;
    case 'TYPE': store.setType?.(key, Number(arg!.toString('latin1'))); return;
    default: lists?.applyLogged(op, key, arg); // a list's RPUSH, LPUSH, RPOP, LPOP
  }
}

// The records a log may hold, with their number of parts.
const RECORD_PARTS: Record<string, number> = { SET: 4, DEL: 3, PEXPIREAT: 4, TYPE: 4, LPUSH: 4, RPUSH: 4, LPOP: 3, RPOP: 3 };

/**
 * The complete records of a log, and where the last one ends. A record is a
 * RESP array: `*4\r\n$3\r\nSET\r\n$<n>\r\n<seq>\r\n$<n>\r\n<key>\r\n$<n>\r\n<value>\r\n`
 * (or `*3` and DEL without the value; PEXPIREAT, TYPE and the lists' records: see
 * recording-store.ts).
 */
export function readRecords(bytes: Buffer, name = 'log'): { records: Buffer[][]; end: number } {
  const records: Buffer[][] = [];
  let pos = 0;
  let end = 0;
  // Reads `<prefix><number>\r\n` at pos; null when the bytes run out first.
  const header = (prefix: number): number | null => {
    const lineEnd = bytes.indexOf('\r\n', pos);
    if (lineEnd === -1) {
      if (bytes.length - pos > 24) corrupt();
      return null;
    }
    const text = bytes.toString('latin1', pos + 1, lineEnd);
    if (bytes[pos] !== prefix || !/^\d{1,10}$/.test(text)) corrupt();
    pos = lineEnd + 2;
    return Number(text);
  };
  const corrupt = (): never => {
    throw new ReplayRefusedError(`${name} is corrupted at byte ${pos}: not a log record (move the file away to start empty)`);
  };
  for (;;) {
    if (pos === bytes.length) return { records, end };
    const count = header(0x2a); // '*'
    if (count === null) return { records, end };
    if (count !== 3 && count !== 4) corrupt();
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const length = header(0x24); // '$'
      if (length === null || pos + length + 2 > bytes.length) return { records, end }; // cut short
      parts.push(bytes.subarray(pos, pos + length));
      pos += length + 2;
    }
    const op = parts[0]!.toString('latin1');
    if (RECORD_PARTS[op] !== count) corrupt();
    records.push(parts);
    end = pos;
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
