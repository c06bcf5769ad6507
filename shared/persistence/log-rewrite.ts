import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { newPartName, partsInOrder, readManifest, removeUnreferenced, writeManifest, type Manifest } from './log-parts.ts';
import { scanRecordSpans, scanRecords, type RecordOp } from './replay.ts';
import { commandRecord, setRecord } from './task.ts';
import { Deque } from '../store/lists.ts';
import { KeySlots } from './key-slots.ts';
import { TYPE_STRING } from '../store/store.ts';

// LOG REWRITE while serving (Redis's BGREWRITEAOF), inside a worker process.
//
// A worker's log keeps every write: one key written a million times takes a
// million records. A rewrite replaces the log by its live data - one record
// per key - while writes go on. That is the SNAPSHOT PROBLEM: how to copy
// data that keeps changing. Redis forks: the child process gets a
// copy-on-write image of memory, frozen at that instant, and writes it out
// while the parent goes on. Node has no fork. But the worker has something
// as good: its log files, and a file that nobody appends to any more does
// not change. So the snapshot here is the log itself, frozen:
//
//   1. SWITCH: create a new incr file, put on disk a manifest naming the
//      old parts plus the new incr, then move the appends to the new incr
//      (between two batches: the worker's one thread makes that an
//      instant). The old parts are now immutable: they are the snapshot.
//   2. COMPACT (a little at a time, so that batches keep being written in
//      between): read the frozen parts, fold each key's records into its
//      final state (KeyState below; none for a key whose last record is a
//      DEL), write that state as a new base file, fsync it.
//   3. PUBLISH: a manifest naming the new base and the new incr, and only
//      them. Replace it atomically (log-parts.ts: temporary file, fsync,
//      rename, fsync of the folder).
//   4. DELETE the old parts.
//
// Why nothing is lost, duplicated or reordered: every record is in exactly
// one place, the frozen parts (written before the switch) or the new incr
// (after it). The base holds, for each key, the state its frozen records
// leave, and everything after them for that key is in the new incr, in
// order - the worker writes the records it receives in the order it
// receives them.
//
// WHY A FOLD, NOT "THE LAST RECORD OF EACH KEY". With strings only, a key's
// last record (SET or DEL) says all there is. Expiry and lists (issue 13)
// add records that change a key without replacing it: `PEXPIREAT`, `TYPE`,
// `RPUSH`... A list's last record is one push; and a SET keeps the key's
// expiry time (the store's rule; a plain SET that drops it is followed by
// `PEXPIREAT 0`), so even a SET does not stand alone. The compaction
// therefore applies each frozen record to a small model of the key, with
// replay's rules (applyRecord in replay.ts), and writes what is left:
// `SET key value`, then for a list `TYPE key 2` and one `RPUSH` per element
// (head first), then `PEXPIREAT key ms` if it has a time. A list pushed
// and popped a million times costs its final elements, nothing more. All of
// a key's records take its last sequence number: the base stays older than
// every incr record, and in order for each key.
//
// Why a SIGKILL at any moment leaves logs that replay: before step 3's
// rename, the manifest names the old parts and the new incr, which together
// hold every record; after it, the new base (fsynced before) and the new
// incr. A half-written base or an old part left behind is a file no manifest
// names: removed by the folder's next owner (log-parts.ts). With --durable a
// record is fsynced in its incr before it is acknowledged, and a rewrite
// never unlinks a part before the manifest that no longer names it is on
// disk, so nothing acknowledged can be lost.
//
// KV_REWRITE_PAUSE=<phase> (tests only) stops a rewrite at one of the phases
// below, for good, while appends go on: a test then kills a process there.

export const REWRITE_PHASES = ['switched', 'base-written', 'published'] as const;
export type RewritePhase = (typeof REWRITE_PHASES)[number];

/** When a log rewrites itself (as Redis's auto-aof-rewrite-percentage and -min-size). */
export interface RewritePolicy {
  /** Rewrite once the log has grown by this many percent since the last rewrite; 0: never by itself. */
  percentage: number;
  /** ... and is at least this many bytes. */
  minSize: number;
  /**
   * ... and no rewrite started in the last this many ms: a rewrite due
   * sooner waits for a timer (so a log that stops growing is still
   * rewritten). Absent or 0: no wait. BGREWRITEAOF never waits.
   */
  minIntervalMs?: number;
  /**
   * A log below minSize that has grown by the percentage (and holds at
   * least IDLE_MIN_SIZE bytes) is rewritten once it has had no append for
   * this many ms: at rest the logs come down to the live data, while a
   * write flood is not slowed by rewrites of a small log. Absent or 0:
   * never.
   */
  idleMs?: number;
}

/** The smallest log the idle rule (RewritePolicy.idleMs) rewrites: 64 KB, about twice a worker process's share of the course's 1,000-key load. */
export const IDLE_MIN_SIZE = 64 * 1024;

/** A log's figures, named as Redis names them in INFO. */
export interface LogFigures {
  aof_rewrites: number;
  aof_current_size: number;
  aof_base_size: number;
  /** 'ok' (also before the first rewrite, as Redis says) or 'err'. */
  aof_last_bgrewrite_status: string;
  /** Seconds the last rewrite took; -1 before the first. */
  aof_last_rewrite_time_sec: number;
  aof_rewrite_in_progress: 0 | 1;
  /** 1 while a due rewrite waits for the policy's interval or for the log to be idle (Redis's field, for its own wait). */
  aof_rewrite_scheduled: 0 | 1;
}

const IO_BYTES = 1024 * 1024; // the new base is written, and values read back, this much at a time
// The fold reads this much of a frozen part, then lets the batches that came
// meanwhile be appended: about a thousand records of redis-benchmark's load,
// a fraction of a millisecond. (A step of 1 MB, 18,000 such records, held
// the appends for several ms, and with --durable every SET's reply with them.)
const FOLD_STEP_BYTES = 64 * 1024;
const BASE_STEP_KEYS = 512; // and the new base is written this many keys at a time between batches
const READ_GAP_BYTES = 4096; // records read back together when at most this far apart (LiveKeys.setRecordBytes)

/**
 * The log one worker process appends to, as its parts (log-parts.ts).
 * The process must own the log: opening it removes parts no manifest names.
 * append() and sync() are synchronous; a rewrite runs in the background
 * (started by rewriteIfGrown() or rewrite(), between batches), and
 * `onFigures` hears when one starts and ends.
 */
export class RewritableLog {
  private manifest: Manifest;
  private fd: number;
  private incrBytes: number; // bytes of every incr part
  private baseBytes: number;
  private figures: LogFigures;
  private rewriteAgain = false; // BGREWRITEAOF during a rewrite: another one after it
  private running: Promise<void> | null = null; // the rewrite in progress
  private lastStartAt = -Infinity; // Date.now() when the last rewrite started
  private due: NodeJS.Timeout | null = null; // a rewrite the policy's interval holds back
  private idle: NodeJS.Timeout | null = null; // a rewrite waiting for the log to be idle (policy.idleMs)
  private lastAppendAt = 0; // Date.now() at the last append, for the idle rule
  private draining = false; // in close(): no more waiting for the interval
  private paused = false; // by KV_REWRITE_PAUSE
  private closing = false;
  private output: Buffer | undefined; // compact()'s write buffer
  private input: Buffer | undefined; // and its read buffer

  constructor(
    private readonly dataDir: string,
    private readonly log: string,
    private readonly policy: RewritePolicy,
    private readonly onFigures: (figures: LogFigures) => void = () => {},
    private readonly pauseAt = process.env.KV_REWRITE_PAUSE as RewritePhase | undefined,
  ) {
    removeUnreferenced(dataDir, log);
    this.manifest = readManifest(dataDir, log);
    // 'a': every write goes to the end of the file. Several processes may
    // append to one file this way (step 05's free dispatch) without
    // overwriting each other.
    this.fd = openSync(this.partPath(this.manifest.incrs.at(-1)!), 'a');
    this.baseBytes = this.manifest.base ? this.size(this.manifest.base) : 0;
    this.incrBytes = this.manifest.incrs.reduce((sum, name) => sum + this.size(name), 0);
    this.figures = {
      aof_rewrites: 0, aof_current_size: 0, aof_base_size: this.baseBytes,
      aof_last_bgrewrite_status: 'ok', aof_last_rewrite_time_sec: -1, aof_rewrite_in_progress: 0,
      aof_rewrite_scheduled: 0,
    };
  }

  /** Appends whole records (one write). */
  append(bytes: Uint8Array): void {
    writeSync(this.fd, bytes);
    this.incrBytes += bytes.length;
    this.lastAppendAt = Date.now();
  }

  /**
   * Starts a rewrite if the policy says the log has grown enough (call it
   * between batches); one within the policy's interval of the last start
   * is started by a timer when the interval ends.
   */
  rewriteIfGrown(): void {
    const size = this.baseBytes + this.incrBytes;
    const { percentage, minSize, minIntervalMs = 0, idleMs = 0 } = this.policy;
    if (!(percentage > 0 && size > this.figures.aof_base_size * (1 + percentage / 100))) return;
    if (this.due !== null || this.figures.aof_rewrite_in_progress) return; // (the one running calls again as it ends)
    if (size < minSize) {
      // Grown, but small: rewritten once no append has come for idleMs.
      if (idleMs > 0 && size >= IDLE_MIN_SIZE && this.idle === null && !this.draining) this.waitForIdle(idleMs);
      return;
    }
    const wait = this.draining ? 0 : this.lastStartAt + minIntervalMs - Date.now();
    if (wait <= 0) {
      this.rewrite();
      return;
    }
    this.due = setTimeout(() => this.endWait(), wait);
    this.due.unref(); // (the process lives by its IPC channel, and drains in close())
    this.figures.aof_rewrite_scheduled = 1;
    this.onFigures(this.current());
  }

  /**
   * One timer per wait, not one per append: when it fires (after `delay`
   * ms), it starts the rewrite if the log has been idle for the policy's
   * idleMs, or waits again for the rest of that.
   */
  private waitForIdle(delay: number): void {
    this.idle = setTimeout(() => {
      const idleMs = this.policy.idleMs ?? 0;
      const quiet = Date.now() - this.lastAppendAt;
      if (quiet < idleMs) return this.waitForIdle(idleMs - quiet);
      this.stopIdleWait();
      this.rewrite(); // (none runs: starting one, and close(), stop this wait)
    }, delay);
    this.idle.unref();
    if (this.figures.aof_rewrite_scheduled === 0) {
      this.figures.aof_rewrite_scheduled = 1;
      this.onFigures(this.current());
    }
  }

  private stopIdleWait(): void {
    if (this.idle === null) return;
    clearTimeout(this.idle);
    this.idle = null;
    if (this.due === null) this.figures.aof_rewrite_scheduled = 0;
  }

  /** The interval has passed (or close() will not wait for it): the due rewrite starts. */
  private endWait(): void {
    clearTimeout(this.due!);
    this.due = null;
    this.figures.aof_rewrite_scheduled = 0;
    this.rewriteIfGrown();
    if (!this.figures.aof_rewrite_in_progress) this.onFigures(this.current()); // (rewrite() reports it otherwise)
  }

  /** fdatasync of the part being appended to. */
  sync(): void {
    fdatasyncSync(this.fd);
  }

  /**
   * Lets a running rewrite finish (a log left half rewritten replays, but
   * is as large as before), and the one it may start, then syncs and closes
   * the log. A rewrite stopped
   * by KV_REWRITE_PAUSE is abandoned: what it wrote goes, the manifest names
   * a complete log either way (see above).
   */
  async close(): Promise<void> {
    // A rewrite the interval held back starts now, and so does any the
    // last one asks for (rewriteIfGrown): with no new records coming, that
    // one leaves the log at its live size.
    this.draining = true;
    this.stopIdleWait(); // (a log under the minimum size is left as it is: it replays quickly)
    if (this.due !== null) this.endWait();
    while (this.running && !this.paused) await this.running;
    this.closing = true;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    if (this.paused) removeUnreferenced(this.dataDir, this.log);
  }

  /** Drops the read and write buffers kept for the next rewrite (unless one runs): an idle worker process's 2 MB. */
  releaseBuffers(): void {
    if (this.running) return;
    this.output = undefined;
    this.input = undefined;
  }

  current(): LogFigures {
    return { ...this.figures, aof_current_size: this.currentSize() };
  }

  /** The log's size in bytes, every part: current()'s aof_current_size. */
  currentSize(): number {
    return this.baseBytes + this.incrBytes;
  }

  /**
   * Starts a rewrite (BGREWRITEAOF). During one, schedules another for when
   * it ends (the running one misses what was written since it began) and
   * returns false.
   */
  rewrite(): boolean {
    if (this.closing) return false;
    if (this.figures.aof_rewrite_in_progress) {
      this.rewriteAgain = true;
      return false;
    }
    this.stopIdleWait();
    const started = Date.now();
    this.lastStartAt = started;
    this.figures.aof_rewrite_in_progress = 1;
    this.onFigures(this.current());
    this.running = this.run().then(
      () => this.finished(started, 'ok'),
      (caught: Error) => {
        process.stderr.write(`log rewrite of ${this.log} failed: ${caught.message}\n`);
        this.finished(started, 'err');
      },
    );
    return true;
  }

  private async run(): Promise<void> {
    // 1. SWITCH. A manifest naming a new, empty incr after the parts goes
    //    to disk first (appends still go to the old incr meanwhile: it is
    //    named in both manifests); then, with no await in between, appends
    //    move to the new incr, and the old parts are frozen.
    const incr = newPartName(this.dataDir, this.log, 'incr');
    const fd = openSync(this.partPath(incr), 'a');
    const next: Manifest = { base: this.manifest.base, incrs: [...this.manifest.incrs, incr] };
    await writeManifest(this.dataDir, this.log, next);
    const frozen = this.manifest;
    this.manifest = next;
    closeSync(this.fd); // (with --durable its records were fsynced before they were acknowledged)
    this.fd = fd;
    await this.compact(frozen, incr);
  }

  private async compact(frozen: Manifest, incr: string): Promise<void> {
    await this.pause('switched');
    // 2. COMPACT: each key's records folded into its state (LiveKeys),
    //    read from the frozen parts a chunk at a time into one buffer. A
    //    state says where its value is in the parts, and the values are
    //    read back from there as the base is written: the frozen log is
    //    never in memory whole (it is up to twice the live data, or more).
    const live = new LiveKeys((this.input ??= Buffer.allocUnsafeSlow(IO_BYTES))); // (the read buffer, again for the values)
    const fds: number[] = [];
    let frozenBytes = 0; // of the parts opened so far
    try {
      for (const name of partsInOrder(frozen)) {
        let fd: number;
        try {
          fd = openSync(this.partPath(name), 'r');
        } catch {
          continue; // (a part that is not there holds no records)
        }
        const part = fds.push(fd) - 1;
        const size = fstatSync(fd).size;
        live.partStarts.push(frozenBytes);
        frozenBytes += size;
        let buffer = this.input!;
        let step = FOLD_STEP_BYTES;
        let pos = 0;
        while (pos < size) {
          if (step > buffer.length) buffer = Buffer.allocUnsafeSlow(step);
          const got = readSync(fd, buffer, 0, Math.min(step, size - pos), pos);
          const slice = buffer.subarray(0, got);
          const at = pos; // the file offset of slice[0]
          const end = scanRecordSpans(slice, name, (op, seq, keyStart, keyEnd, argStart, argEnd, recordAt) =>
            live.fold(op, seq, slice, keyStart, keyEnd, argStart, argEnd, recordAt, part, at));
          if (end === 0 && pos + got >= size) break; // a cut-short tail: not a record
          if (end === 0) step *= 2; // a record larger than the step: read more at once, for the rest of this part
          pos += end;
          await new Promise((resolve) => setImmediate(resolve)); // the batches that came meanwhile are appended now
        }
      }
      await this.writeBase(live, fds, frozen, incr);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  private async writeBase(live: LiveKeys, fds: number[], frozen: Manifest, incr: string): Promise<void> {
    const base = newPartName(this.dataDir, this.log, 'base');
    const fd = openSync(this.partPath(base), 'w');
    let written = 0;
    try {
      // The records are copied into one buffer, written whenever it fills
      // (kept for the next rewrite: a fresh one each time would wait for
      // the garbage collector, several at a time, under a write flood).
      const out = (this.output ??= Buffer.allocUnsafeSlow(IO_BYTES));
      let used = 0;
      const flush = () => {
        writeSync(fd, out, 0, used);
        written += used;
        used = 0;
      };
      const put = (record: Buffer) => {
        if (used + record.length > out.length) flush();
        if (record.length > out.length) {
          writeSync(fd, record); // one record larger than the buffer
          written += record.length;
        } else {
          used += record.copy(out, used);
        }
      };
      const slots = live.inFileOrder();
      for (let i = 0; i < slots.length; i++) {
        live.records(slots, i, fds, put);
        if (i % BASE_STEP_KEYS === BASE_STEP_KEYS - 1) await new Promise((resolve) => setImmediate(resolve)); // batches go on meanwhile
      }
      flush();
      // On the disk before a manifest names it; in the background (libuv's
      // threads), so that batches go on being appended meanwhile.
      await new Promise<void>((resolve, reject) => fdatasync(fd, (failed) => (failed ? reject(failed) : resolve())));
    } finally {
      closeSync(fd);
    }
    await this.pause('base-written');
    // 3. PUBLISH: the new base and the incrs since the switch (only `incr`:
    //    one rewrite at a time).
    this.manifest = { base, incrs: this.manifest.incrs.slice(this.manifest.incrs.indexOf(incr)) };
    await writeManifest(this.dataDir, this.log, this.manifest);
    this.baseBytes = written;
    this.incrBytes = this.manifest.incrs.reduce((sum, name) => sum + this.size(name), 0);
    this.figures.aof_base_size = written;
    await this.pause('published');
    // 4. DELETE what the manifest no longer names. (No fsync needed: a
    //    deletion that a power loss undoes leaves a part nobody names.)
    for (const name of partsInOrder(frozen)) rmSync(this.partPath(name), { force: true });
  }

  private finished(started: number, status: 'ok' | 'err'): void {
    this.running = null;
    this.figures.aof_rewrite_in_progress = 0;
    this.figures.aof_last_bgrewrite_status = status;
    this.figures.aof_last_rewrite_time_sec = Math.round((Date.now() - started) / 1000);
    if (status === 'ok') this.figures.aof_rewrites++;
    this.onFigures(this.current());
    // What was written meanwhile may be enough for the next one already.
    if (this.rewriteAgain) {
      this.rewriteAgain = false;
      this.rewrite();
    } else if (status === 'ok') {
      this.rewriteIfGrown();
    }
  }

  private async pause(phase: RewritePhase): Promise<void> {
    if (this.pauseAt !== phase) return;
    this.paused = true;
    process.stderr.write(`log rewrite of ${this.log} paused at ${phase} (KV_REWRITE_PAUSE)\n`);
    await new Promise(() => {}); // never resumes: a test kills a process here
  }

  private partPath(name: string): string {
    return path.join(this.dataDir, name);
  }

  private size(name: string): number {
    try {
      return statSync(this.partPath(name)).size;
    } catch {
      return 0;
    }
  }
}

// LiveKeys.state: the fields of a slot, FIELDS numbers from FIELDS * slot.
const SEQ = 0;
const EXPIRES_AT = 1;
const VALUE_PART = 2;
const RECORD_AT = 3;
const VALUE_AT = 4;
const VALUE_LENGTH = 5;
const TYPE_FIELD = 6;
const LAST_IS_SET = 7;
const FIELDS = 8;
const SORT_RADIX = 2048; // inFileOrder()'s digits: 11 bits of a place at a time

/**
 * What the frozen records leave of each key: what its records in the new
 * base say. One slot per live key, its fields in typed arrays, its value as
 * a place in the frozen parts (read back when the base is written): the only
 * object per key is its name in the Map. (A small object per key with views
 * of the parts, the parts read whole, cost each worker process 70 MB of
 * resident memory under redis-benchmark's 60,000-key load, and hundreds of
 * MB with a million keys: each rewrite's states outlived the young
 * generation, and the old generation kept the dead ones of the rewrites
 * before.)
 */
class LiveKeys {
  private readonly keys = new KeySlots(); // the key's bytes -> its slot, where its state is below
  /**
   * Each slot's state, the FIELDS numbers of one key side by side (64 bytes:
   * one cache line, where eight arrays made eight misses per record with
   * 100,000 keys): its last record's number (SEQ); its time, ms since 1970,
   * 0 for none (EXPIRES_AT); which frozen part holds its SET record
   * (VALUE_PART), where that record starts in that file (RECORD_AT), where
   * its value starts (VALUE_AT: the record ends 2 bytes after the value)
   * and the value's length (VALUE_LENGTH); TYPE_STRING or TYPE_LIST
   * (TYPE_FIELD); and 1 if its SET record is its last, copied into the base
   * as it is (LAST_IS_SET).
   */
  private state = new Float64Array(FIELDS * 1024);
  /** A list's elements (copies: lists are few), by slot. */
  private readonly lists = new Map<number, Deque>();
  /** SET records read back from the frozen parts: in `window`, the bytes of part `windowPart` from `windowStart` (see setRecordBytes()). */
  private windowPart = -1;
  private windowStart = 0;
  private windowEnd = 0;
  /** Where each frozen part starts in the frozen log read end to end (the parts' sizes, summed): the caller adds each part's as it opens it. */
  readonly partStarts: number[] = [];

  constructor(private window: Buffer) {}

  /**
   * Applies one record, by the rules replay applies it to the store and the
   * lists (applyRecord in replay.ts, the stores' set() and delete()): SET
   * replaces the value and makes a string, keeping the expiry time; DEL
   * removes the key; PEXPIREAT and TYPE change a key that exists; a push or
   * pop changes its elements. (Replay also keeps elements pushed to a key
   * that does not exist, where no list command can see them: the live server
   * always logs SET and TYPE before a list's first push.) The record is
   * `bytes` from `recordAt`, its key and arg places in it (scanRecordSpans);
   * `bytes` starts at offset `bytesAt` of frozen part `part`.
   */
  fold(
    op: RecordOp, seq: number, bytes: Buffer, keyStart: number, keyEnd: number, argStart: number, argEnd: number,
    recordAt: number, part: number, bytesAt: number,
  ): void {
    if (op === 'DEL') {
      const slot = this.keys.find(bytes, keyStart, keyEnd);
      if (slot === -1) return;
      this.keys.remove(slot);
      this.lists.delete(slot);
      return;
    }
    if (op === 'SET') {
      const known = this.keys.size;
      const slot = this.keys.add(bytes, keyStart, keyEnd);
      if (this.keys.size !== known) this.makeRoom(slot);
      const state = this.state;
      const at = FIELDS * slot;
      if (this.keys.size !== known) state[at + EXPIRES_AT] = 0;
      state[at + SEQ] = seq;
      state[at + VALUE_PART] = part;
      state[at + RECORD_AT] = bytesAt + recordAt;
      state[at + VALUE_AT] = bytesAt + argStart;
      state[at + VALUE_LENGTH] = argEnd - argStart;
      state[at + TYPE_FIELD] = TYPE_STRING;
      state[at + LAST_IS_SET] = 1;
      if (this.lists.size > 0) this.lists.delete(slot); // (no hash lookup per SET when there are no lists)
      return;
    }
    const slot = this.keys.find(bytes, keyStart, keyEnd);
    if (slot === -1) return;
    this.state[FIELDS * slot + SEQ] = seq;
    this.state[FIELDS * slot + LAST_IS_SET] = 0;
    switch (op) {
      case 'PEXPIREAT': this.state[FIELDS * slot + EXPIRES_AT] = Number(bytes.toString('latin1', argStart, argEnd)); return;
      case 'TYPE': this.state[FIELDS * slot + TYPE_FIELD] = Number(bytes.toString('latin1', argStart, argEnd)); return;
      case 'LPUSH': case 'RPUSH': {
        let list = this.lists.get(slot);
        if (list === undefined) this.lists.set(slot, (list = new Deque()));
        list.push(Buffer.from(bytes.subarray(argStart, argEnd)), op === 'LPUSH'); // (a copy: `bytes` is a reused buffer)
        return;
      }
      case 'LPOP': case 'RPOP': this.lists.get(slot)?.pop(op === 'LPOP');
    }
  }

  /**
   * The live keys, by slot, in the order their SET records lie in the
   * frozen parts (part, then offset): read back in that order, one read
   * brings the records of many keys (setRecordBytes()). The base's keys come
   * in that order; any order replays the same, as each key's records stay
   * together.
   *
   * A RADIX SORT, with no comparator: a slot's place in the frozen log is
   * one number (partStarts[part] + offset), and each pass is a counting
   * sort of the slots by one digit of it, base SORT_RADIX, the lowest digit
   * first; a pass keeps the order of the pass before among equal digits, so
   * after the last one the places are in order. Three passes for a frozen
   * log of up to 8 GB, each a few reads and writes per key. (Array's sort
   * with a comparator, four state reads per call and n log n calls, took a
   * fifth of a worker process's CPU under redis-benchmark's load; with
   * 100,000 keys the radix sort is ten times faster.)
   */
  inFileOrder(): Int32Array {
    let slots: Int32Array = this.keys.liveSlots();
    const n = slots.length;
    let places = new Float64Array(n);
    let largest = 0;
    for (let i = 0; i < n; i++) {
      const at = FIELDS * slots[i]!;
      places[i] = this.partStarts[this.state[at + VALUE_PART]!]! + this.state[at + RECORD_AT]!;
      largest = Math.max(largest, places[i]!);
    }
    let nextSlots: Int32Array = new Int32Array(n);
    let nextPlaces = new Float64Array(n);
    const starts = new Int32Array(SORT_RADIX); // per digit: how many slots have it, then where they go
    for (let unit = 1; unit <= largest; unit *= SORT_RADIX) { // the digit of `place` is floor(place / unit) % SORT_RADIX
      starts.fill(0);
      for (let i = 0; i < n; i++) starts[Math.floor(places[i]! / unit) % SORT_RADIX]!++;
      for (let digit = 0, at = 0; digit < SORT_RADIX; digit++) {
        const count = starts[digit]!;
        starts[digit] = at;
        at += count;
      }
      for (let i = 0; i < n; i++) {
        const to = starts[Math.floor(places[i]! / unit) % SORT_RADIX]!++;
        nextSlots[to] = slots[i]!;
        nextPlaces[to] = places[i]!;
      }
      [slots, nextSlots] = [nextSlots, slots];
      [places, nextPlaces] = [nextPlaces, places];
    }
    return slots;
  }

  /**
   * The state of the key `slots[i]` as records, in the order replay
   * needs them, each handed to `put` before the next is made (task.ts
   * reuses its bytes): `SET key value` (read back from the frozen part,
   * `fds` by part), for a list `TYPE key 2` and one `RPUSH` per element
   * (head first), then `PEXPIREAT key ms` if it has a time; all with its
   * last number. A key whose last record is its SET (the usual case: a
   * string written again and again) gets that record's bytes as they are,
   * with no record made: they are `SET` with its last number already, and
   * replay read them once (a rewrite under redis-benchmark's load spent
   * half its time remaking such records).
   */
  records(slots: Int32Array, i: number, fds: number[], put: (record: Buffer) => void): void {
    const slot = slots[i]!;
    const record = this.setRecordBytes(slots, i, fds);
    const seq = this.state[FIELDS * slot + SEQ]!;
    const expiresAt = this.state[FIELDS * slot + EXPIRES_AT]!;
    if (this.state[FIELDS * slot + LAST_IS_SET] === 1) {
      put(record);
      if (expiresAt !== 0) put(commandRecord(seq, 'PEXPIREAT', this.keys.keyOf(slot), String(expiresAt)));
      return;
    }
    const key = this.keys.keyOf(slot);
    const valueEnd = record.length - 2;
    put(setRecord(seq, key, record.subarray(valueEnd - this.state[FIELDS * slot + VALUE_LENGTH]!, valueEnd)));
    const type = this.state[FIELDS * slot + TYPE_FIELD]!;
    if (type !== TYPE_STRING) put(commandRecord(seq, 'TYPE', key, String(type)));
    const list = this.lists.get(slot);
    if (list !== undefined && list.length > 0) {
      for (const element of list.range(0, list.length - 1)) put(commandRecord(seq, 'RPUSH', key, element));
    }
    if (expiresAt !== 0) put(commandRecord(seq, 'PEXPIREAT', key, String(expiresAt)));
  }

  /** Where the SET record of `slot` ends in its frozen part. */
  private recordEnd(slot: number): number {
    return this.state[FIELDS * slot + VALUE_AT]! + this.state[FIELDS * slot + VALUE_LENGTH]! + 2;
  }

  /**
   * The SET record of `slots[i]` (the last SET of its key), a view of the
   * read-back window. A record not in the window is read with the records
   * after it in file order that lie close behind it (gaps under
   * READ_GAP_BYTES, up to IO_BYTES in all): one system call for a run of
   * keys, not one per key (a rewrite under redis-benchmark's load spent a
   * third of its time in those reads), and never much more read than the
   * records themselves when the live keys are few and far apart in a large
   * log.
   */
  private setRecordBytes(slots: Int32Array, i: number, fds: number[]): Buffer {
    const slot = slots[i]!;
    const part = this.state[FIELDS * slot + VALUE_PART]!;
    const at = this.state[FIELDS * slot + RECORD_AT]!;
    const length = this.recordEnd(slot) - at;
    if (part !== this.windowPart || at < this.windowStart || at + length > this.windowEnd) {
      let end = at + length;
      for (let next = i + 1; next < slots.length; next++) {
        const s = slots[next]!;
        const nextEnd = this.recordEnd(s);
        if (this.state[FIELDS * s + VALUE_PART] !== part || this.state[FIELDS * s + RECORD_AT]! - end > READ_GAP_BYTES || nextEnd - at > IO_BYTES) break;
        end = nextEnd;
      }
      // (A value larger than the window gets a buffer of its own.)
      const into = end - at > this.window.length ? Buffer.allocUnsafeSlow(end - at) : this.window;
      const got = readSync(fds[part]!, into, 0, end - at, at);
      if (got !== end - at) throw new Error(`a frozen part of the log ended before a record it held (read ${got} of ${end - at} bytes)`);
      if (into !== this.window) return into;
      this.windowPart = part;
      this.windowStart = at;
      this.windowEnd = end;
    }
    return this.window.subarray(at - this.windowStart, at - this.windowStart + length);
  }

  /** The arrays made long enough for `slot` (KeySlots hands out 0, 1, 2, ...). */
  private makeRoom(slot: number): void {
    if (FIELDS * slot === this.state.length) {
      const bigger = new Float64Array(2 * this.state.length);
      bigger.set(this.state);
      this.state = bigger;
    }
  }
}

/**
 * The highest sequence number whose record is whole in `log`, after cutting
 * off a record a killed writer left half written. A log's incr parts hold
 * its records in sequence order, so the answer is the last record of the
 * last incr that has one (or the base's highest). Supervision uses it to
 * tell which unacknowledged tasks a dead worker process had written.
 */
export function lastSeqWritten(dataDir: string, log: string): number {
  const manifest = readManifest(dataDir, log);
  for (let i = manifest.incrs.length - 1; i >= 0; i--) {
    const file = path.join(dataDir, manifest.incrs[i]!);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    let last = 0;
    const end = scanRecords(bytes, file, (_op, seq) => (last = seq));
    const fd = openSync(file, 'r+');
    try {
      if (end < bytes.length) ftruncateSync(fd, end); // half a record: cut it off
      fdatasyncSync(fd); // what the dead process wrote is on disk before it counts
    } finally {
      closeSync(fd);
    }
    if (end > 0) return last;
  }
  if (manifest.base === null) return 0;
  let highest = 0;
  scanRecords(readFileSync(path.join(dataDir, manifest.base)), manifest.base, (_op, seq) => (highest = Math.max(highest, seq)));
  return highest;
}
