import { ReplyWriter } from '../protocol/encode.ts';

// A persistence task: one write that was applied to the store and must now
// reach the log on disk.
//
// The record is encoded where the write happened (in the connection's thread),
// so the main thread only moves bytes. It is written in the protocol's own
// format, the way Redis writes its append-only file:
//
//   SET <seq> <key> <value>      (a POST, PUT, SET or INCR: the value stored)
//   DEL <seq> <key>              (a DELETE or DEL that removed the key)
//
// each as a RESP array of bulk strings, so `cat data/04-ipc-queue/*.aof`
// shows readable lines, and replay parses the log with the request parser.
//
// A record holds the value that was stored, not the command: INCR is logged
// as `SET counter 7`, so replaying it twice cannot count twice.

export interface PersistTask {
  /**
   * Its position in the order the writes were applied to the store. Taken
   * while holding the store's lock, so that order is the real one; the main
   * thread uses it to put tasks back in that order (see sequencer.ts).
   */
  seq: number;
  /** A hash of the key: by-key dispatch sends every write of a key to one worker. */
  keyHash: number;
  /** The log record, ready to append; with `value`, its first bytes (recordParts()). */
  record: Uint8Array;
  /**
   * A big SET's value, referred to and not copied (setTask()): the record is
   * then `record`, `value` and CRLF, one after the other.
   */
  value?: Uint8Array;
}

const CRLF = Buffer.from('\r\n');

/** The bytes of a task's record, in order: the record, or with a value its three parts. */
export function recordParts(task: PersistTask): Uint8Array[] {
  return task.value === undefined ? [task.record] : [task.record, task.value, CRLF];
}

/** A referred value and the CRLF after it, as Buffers (a replica's SET: replication/primary.ts). */
export function valueAndCrlf(value: Uint8Array): Buffer[] {
  return [Buffer.from(value.buffer, value.byteOffset, value.byteLength), CRLF];
}

/** Values from this size on are referred to by their task when they can be (setTask()). */
export const REFERRED_VALUE_BYTES = 64 * 1024;

// One writer serves every record of this thread (encoding is synchronous).
const records = new ReplyWriter();
const SET = Buffer.from('SET');
const DEL = Buffer.from('DEL');

export function setRecord(seq: number, key: Buffer, value: Buffer): Buffer {
  records.arrayHeader(4);
  records.bulk(SET);
  records.bulkInteger(seq);
  records.bulk(key);
  records.bulk(value);
  return records.take();
}

/**
 * The task of `SET seq key value`. A value of REFERRED_VALUE_BYTES or more
 * that fills a whole fixed-length SharedArrayBuffer - how the request parser
 * hands over a big argument, a buffer no one writes afterwards (the store
 * keeps it as it is too: growable-store.ts) - is not copied: the task refers
 * to it, and its record is the bytes up to the value, the value, CRLF. Copying
 * 100 MB into a fresh record buffer held the event loop for tens of
 * milliseconds (issue 16). Any other value is copied into the record.
 */
export function setTask(seq: number, keyHash: number, key: Buffer, value: Buffer): PersistTask {
  const whole = value.length >= REFERRED_VALUE_BYTES && value.buffer instanceof SharedArrayBuffer &&
    !value.buffer.growable && value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
  if (!whole) return { seq, keyHash, record: setRecord(seq, key, value) };
  records.arrayHeader(4);
  records.bulk(SET);
  records.bulkInteger(seq);
  records.bulk(key);
  records.bulkHeader(value.length);
  return { seq, keyHash, record: records.take(), value };
}

/**
 * Any other record: `<op> <seq> <key> [arg]` (PEXPIREAT, TYPE, a list's
 * RPUSH/LPUSH/RPOP/LPOP; see recording-store.ts), replayed by replay.ts.
 */
export function commandRecord(seq: number, op: string, key: Buffer, arg?: string | Buffer): Buffer {
  records.arrayHeader(arg === undefined ? 3 : 4);
  records.bulk(Buffer.from(op));
  records.bulkInteger(seq);
  records.bulk(key);
  if (arg !== undefined) records.bulk(typeof arg === 'string' ? Buffer.from(arg) : arg);
  return records.take();
}

export function delRecord(seq: number, key: Buffer): Buffer {
  records.arrayHeader(3);
  records.bulk(DEL);
  records.bulkInteger(seq);
  records.bulk(key);
  return records.take();
}

/**
 * The tasks with each record copied into a buffer of its own, for sending to
 * another thread. A record is a view of a larger buffer (the encoder's, see
 * ReplyWriter.take), and postMessage copies a view's whole buffer: 8 KB or
 * more for each record of a few dozen bytes, kept alive as long as the task.
 */
export function ownRecords(tasks: readonly PersistTask[]): PersistTask[] {
  // A referred value is a SharedArrayBuffer's: it is shared, not copied.
  return tasks.map((task) => (task.value === undefined
    ? { seq: task.seq, keyHash: task.keyHash, record: new Uint8Array(task.record) }
    : { seq: task.seq, keyHash: task.keyHash, record: new Uint8Array(task.record), value: task.value }));
}
