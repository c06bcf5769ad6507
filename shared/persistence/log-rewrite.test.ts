import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MapStore } from '../store/map-store.ts';
import { until } from '../threads/test-support.ts';
import { RewritableLog, lastSeqWritten, type LogFigures } from './log-rewrite.ts';
import { readManifest } from './log-parts.ts';
import { replayLogs } from './replay.ts';
import { delRecord, setRecord } from './task.ts';

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

function replayed(dir: string): Map<string, string> {
  const store = new MapStore();
  replayLogs(dir, ['log.aof'], store);
  return new Map(store.entries().map(([key, value]) => [key.toString(), value.toString()]));
}

describe('shared: log rewrite', () => {
  it('records appended during a rewrite are kept, in order, and the log replays to the model', async () => {
    const dir = dataDir();
    let figures: LogFigures | null = null;
    const log = new RewritableLog(dir, 'log.aof', { percentage: 0, minSize: 0 }, (f) => (figures = f));
    const writer = new Writer(log);
    writer.random(5000, 50);
    for (let round = 0; round < 5; round++) {
      assert.equal(log.rewrite(), true);
      // The rewrite runs a chunk at a time: write between its steps.
      while (figures!.aof_rewrite_in_progress) {
        writer.random(50, 50);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(figures!.aof_last_bgrewrite_status, 'ok');
    }
    writer.random(100, 50);
    await log.close();
    assert.equal(log.current().aof_rewrites, 5);
    assert.deepEqual(replayed(dir), writer.model);
    const manifest = readManifest(dir, 'log.aof');
    assert.deepEqual(readdirSync(dir).sort(), [manifest.base!, ...manifest.incrs, 'log.manifest'].sort(), 'old parts removed');
    assert.ok(statSync(path.join(dir, manifest.base!)).size < 50 * 60, 'the base holds one record per live key');
  });

  it('grows past the policy: rewrites by itself, and the log stays near its live size', async () => {
    const dir = dataDir();
    let figures: LogFigures | null = null;
    const log = new RewritableLog(dir, 'log.aof', { percentage: 100, minSize: 4096 }, (f) => (figures = f));
    const writer = new Writer(log);
    let largest = 0;
    for (let i = 0; i < 60; i++) {
      writer.random(100, 20); // about 4 KB
      log.rewriteIfGrown();
      await until(() => figures === null || figures.aof_rewrite_in_progress === 0, 'the rewrite has ended');
      largest = Math.max(largest, log.current().aof_current_size);
    }
    await log.close();
    // 240 KB written: a rewrite each time the log passed 4 KB (and twice its base).
    assert.ok(log.current().aof_rewrites >= 30, `${log.current().aof_rewrites} rewrites`);
    assert.ok(largest < 3 * 4096, `the log grew to ${largest} bytes`);
    assert.deepEqual(replayed(dir), writer.model);
  });

  it('replay of a rewritten log ignores and removes what an interrupted rewrite left', async () => {
    const dir = dataDir();
    let figures: LogFigures | null = null;
    const log = new RewritableLog(dir, 'log.aof', { percentage: 0, minSize: 0 }, (f) => (figures = f));
    const writer = new Writer(log);
    writer.random(500, 10);
    log.rewrite();
    await until(() => figures!.aof_rewrite_in_progress === 0, 'the rewrite has ended');
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
});
