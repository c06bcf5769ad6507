import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MapStore } from '../store/map-store.ts';
import { until } from '../../tester/harness/until.ts';
import { IDLE_MIN_SIZE, RewritableLog, lastSeqWritten, type LogFigures, type RewritePolicy } from './log-rewrite.ts';
import { readManifest } from './log-parts.ts';
import { replayLogs, scanRecordSpans } from './replay.ts';
import { commandRecord, delRecord, setRecord } from './task.ts';
import { Lists } from '../store/lists.ts';
import { TYPE_LIST } from '../store/store.ts';

// The rewrite of one log, in this process (no worker process): records go on
// being appended while it runs, and the rewritten log replays to the state a
// model of the writes holds.

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kv-rewrite-'));
  dirs.push(dir);
  return dir;
}

/** Writes to a log and to a model (a Map) alike. */
class Writer {
  seq = 0;
  readonly model = new Map<string, string>();
  constructor(private readonly log: RewritableLog) {}

  random(count: number, keys: number): void {
    for (let i = 0; i < count; i++) {
      const key = `key:${Math.floor(Math.random() * keys)}`;
      if (Math.random() < 0.2) {
        this.model.delete(key);
        this.log.append(Buffer.from(delRecord(++this.seq, Buffer.from(key))));
      } else {
        const value = `v${this.seq}`.repeat(1 + Math.floor(Math.random() * 3));
        this.model.set(key, value);
        this.log.append(Buffer.from(setRecord(++this.seq, Buffer.from(key), Buffer.from(value))));
      }
    }
  }
}

/** A log in a folder of its own, its writer, and the figures it last reported (null before the first). */
function newLog(policy: RewritePolicy) {
  const dir = dataDir();
  let figures: LogFigures | null = null;
  const log = new RewritableLog(dir, 'log.aof', policy, (f) => (figures = f));
  return { dir, log, writer: new Writer(log), figures: () => figures };
}

function replayed(dir: string): Map<string, string> {
  const store = new MapStore();
  replayLogs(dir, ['log.aof'], store);
  return new Map(store.entries().map(([key, value]) => [key.toString(), value.toString()]));
}

describe('shared: log rewrite', () => {
  it('records appended during a rewrite are kept, in order, and the log replays to the model', async () => {
    const { dir, log, writer, figures } = newLog({ percentage: 0, minSize: 0 });
    writer.random(5000, 50);
    for (let round = 0; round < 5; round++) {
      assert.equal(log.rewrite(), true);
      // The rewrite runs a chunk at a time: write between its steps.
      while (figures()!.aof_rewrite_in_progress) {
        writer.random(50, 50);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(figures()!.aof_last_bgrewrite_status, 'ok');
    }
    writer.random(100, 50);
    await log.close();
    assert.equal(log.current().aof_rewrites, 5);
    assert.deepEqual(replayed(dir), writer.model);
    const manifest = readManifest(dir, 'log.aof');
    assert.deepEqual(readdirSync(dir).sort(), [manifest.base!, ...manifest.incrs, 'log.manifest'].sort(), 'old parts removed');
    assert.ok(statSync(path.join(dir, manifest.base!)).size < 50 * 60, 'the base holds one record per live key');
  });

  it("writes the base's keys in the order of their last SET in the frozen parts (part, then offset)", async () => {
    const { dir, log, writer, figures } = newLog({ percentage: 0, minSize: 0 });
    const rewritten = async () => {
      assert.equal(log.rewrite(), true);
      await until(() => figures()!.aof_rewrite_in_progress === 0, 'the rewrite ends');
      assert.equal(figures()!.aof_last_bgrewrite_status, 'ok');
    };
    // A base of 3,000 keys (offsets past 2048 * 2048: three digits of
    // the radix sort), then an incr that sets a third of them again.
    const set = (key: string) => {
      const value = `${key}=${writer.seq}`.padEnd(1500, '.');
      writer.model.set(key, value);
      log.append(Buffer.from(setRecord(++writer.seq, Buffer.from(key), Buffer.from(value))));
    };
    for (let i = 0; i < 3000; i++) set(`key:${(i * 7919) % 3000}`);
    await rewritten();
    const order: string[] = [];
    const inBase = [...writer.model.keys()];
    const again = inBase.filter((_, i) => i % 3 === 0).reverse();
    for (const key of again) set(key);
    order.push(...inBase.filter((key) => !again.includes(key)), ...again);
    await rewritten();
    await log.close();
    const base = readFileSync(path.join(dir, readManifest(dir, 'log.aof').base!));
    const keys: string[] = [];
    scanRecordSpans(base, 'base', (_op, _seq, keyStart, keyEnd) => keys.push(base.toString('latin1', keyStart, keyEnd)));
    assert.deepEqual(keys, order);
    assert.ok([...replayed(dir)].every(([key, value]) => writer.model.get(key) === value) && replayed(dir).size === writer.model.size, 'the log replays to the model');
  });

  it('values from 0 bytes to megabytes, larger than the buffer the frozen parts are read with (1 MB), come back byte for byte', async () => {
    const dir = dataDir();
    let figures: LogFigures | null = null;
    const log = new RewritableLog(dir, 'log.aof', { percentage: 0, minSize: 0 }, (f) => (figures = f));
    const model = new Map<string, Buffer>();
    let seq = 0;
    const set = (key: string, value: Buffer) => {
      model.set(key, value);
      log.append(Buffer.from(setRecord(++seq, Buffer.from(key), value)));
    };
    for (const [i, size] of [0, 1, 70_000, 1024 * 1024 - 40, 1024 * 1024, 3 * 1024 * 1024 + 7, 5].entries()) {
      set(`big:${i}`, Buffer.alloc(size, i + 1));
      set(`small:${i}`, Buffer.from(`v${i}`));
    }
    set('big:2', Buffer.alloc(2 * 1024 * 1024, 42)); // replaced: the later value counts
    for (let round = 0; round < 2; round++) {
      assert.equal(log.rewrite(), true);
      await until(() => figures?.aof_rewrite_in_progress === 0, 'the rewrite ends');
      assert.equal(figures!.aof_last_bgrewrite_status, 'ok');
    }
    await log.close();
    const store = new MapStore();
    replayLogs(dir, ['log.aof'], store);
    assert.equal(store.size(), model.size);
    for (const [key, value] of model) assert.ok(store.get(Buffer.from(key))?.equals(value), `${key}: ${value.length} bytes`);
  });

  it('grows past the policy: rewrites by itself, and the log stays near its live size', async () => {
    const { dir, log, writer, figures } = newLog({ percentage: 100, minSize: 4096 });
    let largest = 0;
    for (let i = 0; i < 60; i++) {
      writer.random(100, 20); // about 4 KB
      log.rewriteIfGrown();
      await until(() => (figures()?.aof_rewrite_in_progress ?? 0) === 0, 'the rewrite has ended');
      largest = Math.max(largest, log.current().aof_current_size);
    }
    await log.close();
    // 240 KB written: a rewrite each time the log passed 4 KB (and twice its base).
    assert.ok(log.current().aof_rewrites >= 30, `${log.current().aof_rewrites} rewrites`);
    assert.ok(largest < 3 * 4096, `the log grew to ${largest} bytes`);
    assert.deepEqual(replayed(dir), writer.model);
  });

  it('minIntervalMs: a burst that makes many rewrites due starts one, and close() still runs the one held back', async () => {
    const { dir, log, writer, figures } = newLog({ percentage: 100, minSize: 4096, minIntervalMs: 3_600_000 });
    for (let i = 0; i < 60; i++) {
      writer.random(100, 20);
      log.rewriteIfGrown();
      await until(() => (figures()?.aof_rewrite_in_progress ?? 0) === 0, 'the rewrite has ended');
    }
    assert.equal(log.current().aof_rewrites, 1, 'one rewrite in the interval');
    assert.equal(figures()!.aof_rewrite_scheduled, 1, 'the next one waits');
    await log.close();
    assert.equal(log.current().aof_rewrites, 2, 'the one held back ran in close()');
    assert.equal(log.current().aof_rewrite_scheduled, 0);
    assert.deepEqual(replayed(dir), writer.model);
  });

  it('minIntervalMs: rewrites start at least the interval apart, and a timer starts the last due one after the writes stop', async () => {
    const interval = 40;
    const dir = dataDir();
    const starts: number[] = [];
    let last: LogFigures | null = null;
    const log = new RewritableLog(dir, 'log.aof', { percentage: 100, minSize: 4096, minIntervalMs: interval }, (f) => {
      if (f.aof_rewrite_in_progress && !last?.aof_rewrite_in_progress) starts.push(Date.now());
      last = f;
    });
    const writer = new Writer(log);
    const deadline = Date.now() + 300;
    while (Date.now() < deadline) { // writes that make a rewrite due many times an interval
      writer.random(100, 20);
      log.rewriteIfGrown();
      await new Promise((resolve) => setImmediate(resolve));
    }
    writer.random(400, 20); // the last writes (about 16 KB): a rewrite due, started now or when the interval ends
    log.rewriteIfGrown();
    const rewritesWhenWritesStopped = log.current().aof_rewrites;
    await until(() => !last?.aof_rewrite_in_progress && !last?.aof_rewrite_scheduled && log.current().aof_current_size < 4096,
      'the log compacted after the writes stopped');
    assert.ok(log.current().aof_rewrites > rewritesWhenWritesStopped, 'a rewrite after the last writes');
    assert.ok(starts.length >= 2, `${starts.length} rewrites`);
    // The log reads Date.now() as a rewrite starts and the callback reads it
    // again a moment later: the two can fall either side of a millisecond's
    // tick, so a start recorded here may lag the log's own by 1 ms.
    const clockTick = 1;
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] >= interval - clockTick, `starts ${starts.join(', ')}`);
    await log.close();
    assert.deepEqual(replayed(dir), writer.model);
  });

  it('idleMs: a log under minSize is not rewritten while it is written, and is once it has been idle that long', async () => {
    const idleMs = 250; // (longer than a process descheduled under load is likely to wait between two appends)
    const dir = dataDir();
    let last: LogFigures | null = null;
    let startedAt = 0;
    const log = new RewritableLog(dir, 'log.aof', { percentage: 100, minSize: 1 << 30, minIntervalMs: 0, idleMs }, (f) => {
      if (f.aof_rewrite_in_progress && !last?.aof_rewrite_in_progress) startedAt = Date.now();
      last = f;
    });
    const writer = new Writer(log);
    while (log.currentSize() < IDLE_MIN_SIZE / 2) { // grown by far more than 100 %, but too small for the idle rule
      writer.random(100, 20);
      log.rewriteIfGrown();
    }
    assert.equal(log.current().aof_rewrite_scheduled, 0, 'no wait for a log under IDLE_MIN_SIZE');
    // Writes with gaps far shorter than idleMs, for several times idleMs.
    // The clock is read before each batch: the log's last append comes after
    // that reading, so the quiet the log saw is at least startedAt minus it.
    // (A reading after the loop would also count the wait for setImmediate.)
    const writesEnd = Date.now() + 3 * idleMs;
    let lastWriteAt = 0;
    while (Date.now() < writesEnd || log.currentSize() < 2 * IDLE_MIN_SIZE) {
      lastWriteAt = Date.now();
      writer.random(100, 20);
      log.rewriteIfGrown();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(log.current().aof_rewrites, 0, 'no rewrite while the writes go on');
    assert.equal(log.current().aof_rewrite_scheduled, 1, 'a rewrite waits for the log to be idle');
    await until(() => log.current().aof_rewrites === 1 && !log.current().aof_rewrite_in_progress, 'the rewrite once the log is idle');
    const clockTick = 1; // (see the test above)
    assert.ok(startedAt - lastWriteAt >= idleMs - clockTick, `started ${startedAt - lastWriteAt} ms after the last write`);
    assert.equal(log.current().aof_rewrite_scheduled, 0);
    assert.ok(log.currentSize() < IDLE_MIN_SIZE / 4, `the log at its live size (${log.currentSize()} bytes)`);
    await log.close();
    assert.deepEqual(replayed(dir), writer.model);
  });

  it('replay of a rewritten log ignores and removes what an interrupted rewrite left', async () => {
    const { dir, log, writer, figures } = newLog({ percentage: 0, minSize: 0 });
    writer.random(500, 10);
    log.rewrite();
    await until(() => figures()!.aof_rewrite_in_progress === 0, 'the rewrite has ended');
    writer.random(50, 10);
    await log.close();
    // A base half written by a rewrite killed before it published it.
    writeFileSync(path.join(dir, 'log.base.99.aof'), Buffer.from(setRecord(1, Buffer.from('ghost'), Buffer.from('x'))).subarray(0, 20));
    assert.deepEqual(replayed(dir), writer.model);
    assert.ok(!readdirSync(dir).includes('log.base.99.aof'), 'the leftover part was removed');
  });

  it('lastSeqWritten: the last whole record, after cutting off a half-written one', async () => {
    const dir = dataDir();
    const log = new RewritableLog(dir, 'log.aof', { percentage: 0, minSize: 0 });
    const writer = new Writer(log);
    writer.random(10, 5);
    await log.close();
    appendFileSync(path.join(dir, 'log.aof'), Buffer.from(setRecord(11, Buffer.from('k'), Buffer.from('value'))).subarray(0, 15));
    assert.equal(lastSeqWritten(dir, 'log.aof'), 10);
    assert.deepEqual(replayed(dir), writer.model);
  });

  it('with expiry and list records: a log rewritten again and again replays to the state of the same records never rewritten', async () => {
    // The same records go to two logs; one is rewritten while they are
    // appended. Records are made as the live server makes them: a list is
    // SET "" + TYPE 2 + pushes, an emptied one a DEL, a plain SET of a key
    // with a time is followed by PEXPIREAT 0 (or not: a SET KEEPTTL).
    const [plainDir, rewrittenDir] = [dataDir(), dataDir()];
    const plain = new RewritableLog(plainDir, 'log.aof', { percentage: 0, minSize: 0 });
    let figures: LogFigures | null = null;
    const rewritten = new RewritableLog(rewrittenDir, 'log.aof', { percentage: 0, minSize: 0 }, (f) => (figures = f));
    let seq = 0;
    const append = (record: Buffer) => {
      const own = Buffer.from(record);
      plain.append(own);
      rewritten.append(own);
    };
    const lengths = new Map<string, number>(); // the lists, by key: their lengths
    const strings = new Set<string>();
    const step = () => {
      const key = Buffer.from(`k${Math.floor(Math.random() * 40)}`);
      const id = key.toString();
      const roll = Math.random();
      if (roll < 0.1) {
        append(delRecord(++seq, key));
        lengths.delete(id);
        strings.delete(id);
      } else if (roll < 0.2) {
        if (lengths.has(id) || strings.has(id)) append(commandRecord(++seq, 'PEXPIREAT', key, String(roll < 0.15 ? 0 : 4_000_000_000_000 + seq)));
      } else if (roll < 0.35 || (!lengths.has(id) && roll < 0.6)) {
        append(setRecord(++seq, key, Buffer.from(`v${seq}`)));
        if (roll < 0.3) append(commandRecord(++seq, 'PEXPIREAT', key, '0'));
        lengths.delete(id);
        strings.add(id);
      } else {
        if (!lengths.has(id)) {
          append(setRecord(++seq, key, Buffer.alloc(0)));
          append(commandRecord(++seq, 'TYPE', key, String(TYPE_LIST)));
          strings.delete(id);
          lengths.set(id, 0);
        }
        const length = lengths.get(id)!;
        if (roll < 0.8 || length === 0) {
          append(commandRecord(++seq, roll < 0.7 ? 'RPUSH' : 'LPUSH', key, Buffer.from(`e${seq}`)));
          lengths.set(id, length + 1);
        } else {
          append(commandRecord(++seq, roll < 0.9 ? 'LPOP' : 'RPOP', key));
          lengths.set(id, length - 1);
          if (length === 1) {
            append(delRecord(++seq, key));
            lengths.delete(id);
          }
        }
      }
    };
    for (let i = 0; i < 3000; i++) step();
    for (let round = 0; round < 4; round++) {
      assert.equal(rewritten.rewrite(), true);
      while (figures!.aof_rewrite_in_progress) {
        for (let i = 0; i < 40; i++) step();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(figures!.aof_last_bgrewrite_status, 'ok');
    }
    for (let i = 0; i < 200; i++) step();
    // Whatever the random steps left, a key with a time and a list of two,
    // outside their keys (k0-k39), so that the last rewrite folds both.
    append(setRecord(++seq, Buffer.from('timed'), Buffer.from('v')));
    append(commandRecord(++seq, 'PEXPIREAT', Buffer.from('timed'), String(4_000_000_000_000 + seq)));
    append(setRecord(++seq, Buffer.from('list'), Buffer.alloc(0)));
    append(commandRecord(++seq, 'TYPE', Buffer.from('list'), String(TYPE_LIST)));
    append(commandRecord(++seq, 'RPUSH', Buffer.from('list'), Buffer.from('a')));
    append(commandRecord(++seq, 'RPUSH', Buffer.from('list'), Buffer.from('b')));
    // And one with no writes during it: the base then holds every key's
    // whole history, folded (and a fault in the fold is not hidden by
    // records after it).
    assert.equal(rewritten.rewrite(), true);
    await until(() => figures!.aof_rewrite_in_progress === 0, 'the last rewrite has ended');
    await Promise.all([plain.close(), rewritten.close()]);
    const state = (dir: string) => {
      const store = new MapStore();
      const lists = new Lists();
      const result = replayLogs(dir, ['log.aof'], store, lists);
      assert.equal(result.outOfOrder, 0, result.outOfOrderExample);
      return new Map(store.entries().map(([key, value]) => [key.toString(), {
        value: value.toString(), type: store.typeOf(key), expiresAt: store.expiresAt(key),
        elements: lists.get(store, key)?.range(0, lists.get(store, key)!.length - 1).map(String) ?? [],
      }]));
    };
    const expected = state(plainDir);
    assert.ok([...expected.values()].some((key) => key.elements.length > 1) && [...expected.values()].some((key) => key.expiresAt! > 0),
      'the records made lists and expiry times');
    assert.deepEqual(state(rewrittenDir), expected);
    const base = readManifest(rewrittenDir, 'log.aof').base!;
    assert.ok(statSync(path.join(rewrittenDir, base)).size < statSync(path.join(plainDir, readManifest(plainDir, 'log.aof').incrs[0]!)).size / 2,
      'the base is smaller than the log it replaces');
  });
});
