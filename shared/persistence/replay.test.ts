import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MapStore } from '../store/map-store.ts';
import { RecordingStore, newSequence } from './recording-store.ts';
import { ReplayRefusedError, replayLogs } from './replay.ts';

function record(writes: (store: RecordingStore) => void, first = 1): Buffer {
  const store = new RecordingStore(new MapStore(), newSequence(first));
  writes(store);
  return Buffer.concat(store.takeTasks().map((task) => task.record));
}

describe('shared: log replay', () => {
  it('rebuilds the store from the records, binary-safe, deletes included', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
    const binary = Buffer.from([0, 13, 10, 255]);
    writeFileSync(path.join(dir, 'log.aof'), record((s) => {
      s.set(Buffer.from('a'), Buffer.from('1'));
      s.set(Buffer.from('b b'), binary);
      s.set(Buffer.from('a'), Buffer.from('2'));
      s.set(Buffer.from('gone'), Buffer.from('x'));
      s.delete(Buffer.from('gone'));
      s.delete(Buffer.from('never there')); // changes nothing: no record
    }));
    const store = new MapStore();
    const result = replayLogs(dir, ['log.aof'], store);
    assert.equal(result.records, 5);
    assert.equal(result.lastSeq, 5);
    assert.equal(result.outOfOrder, 0);
    assert.deepEqual(store.get(Buffer.from('a')), Buffer.from('2'));
    assert.deepEqual(store.get(Buffer.from('b b')), binary);
    assert.equal(store.get(Buffer.from('gone')), undefined);
  });

  it('drops a last record cut short by a crash and truncates the file to the whole records', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
    const whole = record((s) => s.set(Buffer.from('k'), Buffer.from('v')));
    const cut = record((s) => s.set(Buffer.from('k2'), Buffer.from('value')), 2).subarray(0, 20);
    const file = path.join(dir, 'log.aof');
    writeFileSync(file, Buffer.concat([whole, cut]));
    const store = new MapStore();
    const result = replayLogs(dir, ['log.aof'], store);
    assert.equal(result.records, 1);
    assert.equal(result.truncatedBytes, 20);
    assert.equal(statSync(file).size, whole.length);
    assert.deepEqual(readFileSync(file), whole);
  });

  it('counts a key whose sequence numbers go backwards in the log', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
    const newer = record((s) => s.set(Buffer.from('hot'), Buffer.from('new')), 7);
    const older = record((s) => s.set(Buffer.from('hot'), Buffer.from('old')), 3);
    writeFileSync(path.join(dir, 'log.aof'), Buffer.concat([newer, older]));
    const store = new MapStore();
    const result = replayLogs(dir, ['log.aof'], store);
    assert.equal(result.outOfOrder, 1);
    assert.match(result.outOfOrderExample!, /seq 3 comes after seq 7/);
    assert.deepEqual(store.get(Buffer.from('hot')), Buffer.from('old'), 'file order wins: the older value');
  });

  it('refuses garbage, and logs of another layout', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
    writeFileSync(path.join(dir, 'log.aof'), 'this is not a log record at all, no sir\r\n');
    assert.throws(() => replayLogs(dir, ['log.aof'], new MapStore()), ReplayRefusedError);
    const other = mkdtempSync(path.join(tmpdir(), 'replay-'));
    writeFileSync(path.join(other, 'log-0-of-2.aof'), '');
    assert.throws(() => replayLogs(other, ['log.aof'], new MapStore()), /another layout/);
  });
});
