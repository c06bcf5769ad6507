// --when-full refuse: a write that finds the queue full gets BUSY and changes nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../../shared/client/connection.ts';
import { BOUNDED, ask } from '../../../tester/harness/server-suites.ts';
import { start, tempDataDir } from '../../../tester/harness/persistence-suites.ts';

describe('exercise 04/when-full', () => {
  it('refuses writes with BUSY while the queue is full, and a refused write leaves no trace', BOUNDED, async () => {
    const server = await start('04', tempDataDir(), ['--when-full', 'refuse', '--queue-capacity', '1', '--task-cpu-ms', '50']);
    try {
      const clients = await Promise.all(Array.from({ length: 6 }, () => Connection.open(server.host, server.port)));
      const replies = await Promise.all(clients.map((c, i) => ask(c, 'SET', `key${i}`, 'v')));
      const busy = replies.flatMap((reply, i) => (reply.startsWith('BUSY') ? [i] : []));
      assert.ok(busy.length > 0, `no write was refused: ${replies.join(', ')}`);
      for (const [i, reply] of replies.entries()) {
        assert.equal(await ask(clients[0]!, 'GET', `key${i}`), busy.includes(i) ? '(nil)' : '"v"', `key${i} after ${reply}`);
      }
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await server.stop();
    }
  });
});
