// Compaction at start-up: after replay, the log holds one record per key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '../../../shared/client/connection.ts';
import { ask } from '../../../tester/harness/server-suites.ts';
import { BOUNDED_WITH_RESTARTS, start, tempDataDir } from '../../../tester/harness/persistence-suites.ts';

describe('exercise 04/compaction', () => {
  it('a key written 200 times takes one record in the log after a restart, and keeps its last value', BOUNDED_WITH_RESTARTS, async (t) => {
    const dataDir = tempDataDir();
    const first = await start('04', dataDir);
    t.after(() => first.stop());
    const c = await Connection.open(first.host, first.port);
    for (let i = 0; i < 200; i++) await ask(c, 'SET', 'k', `value ${i}`);
    await c.close();
    await first.stop();
    const log = path.join(dataDir, 'log.aof');
    const before = statSync(log).size;
    await (await start('04', dataDir)).stop(); // replay, compact
    const after = statSync(log).size;
    assert.ok(after < before / 100, `the log went from ${before} to ${after} bytes: not compacted`);
    const third = await start('04', dataDir);
    t.after(() => third.stop());
    const reader = await Connection.open(third.host, third.port);
    assert.equal(await ask(reader, 'GET', 'k'), '"value 199"');
    await reader.close();
    await third.stop();
  });
});
