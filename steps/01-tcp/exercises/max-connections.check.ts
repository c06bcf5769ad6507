// --max-connections N: past N open connections, a new one gets -BUSY and is closed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../../shared/client/connection.ts';
import { BOUNDED, ask, withServer } from '../../../tester/harness/server-suites.ts';

describe('exercise 01/max-connections', () => {
  const server = withServer('01', ['--max-connections', '2']);

  it('serves two clients, turns the third away with BUSY, and serves again once one leaves', BOUNDED, async () => {
    const first = await Connection.open(server().host, server().port);
    const second = await Connection.open(server().host, server().port);
    assert.equal(await ask(first, 'PING'), 'PONG');
    assert.equal(await ask(second, 'PING'), 'PONG');
    const third = await Connection.open(server().host, server().port);
    const turnedAway = new Promise<string>((resolve) => {
      third.onUnsolicited = (reply) => resolve(reply.type === 'error' ? reply.code : reply.type);
    });
    assert.equal(await turnedAway, 'BUSY');
    await first.close();
    const fourth = await Connection.open(server().host, server().port);
    assert.equal(await ask(fourth, 'PING'), 'PONG');
    await Promise.all([second.close(), fourth.close()]);
  });
});
