// APPEND key value: adds to the end of a value (creating it), replies the new length.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../../shared/client/connection.ts';
import { BOUNDED, ask, withServer } from '../../../tester/harness/server-suites.ts';

describe('exercise 01/append', () => {
  const server = withServer('01', []);

  it('APPEND creates, appends, and replies the new length as an integer', BOUNDED, async () => {
    const c = await Connection.open(server().host, server().port);
    assert.equal(await ask(c, 'APPEND', 'log', 'hello'), '(integer) 5');
    assert.equal(await ask(c, 'APPEND', 'log', ' world'), '(integer) 11');
    assert.equal(await ask(c, 'GET', 'log'), '"hello world"');
    assert.match(await ask(c, 'APPEND', 'log'), /^INVALID_COMMAND wrong number of arguments/);
    await c.close();
  });
});
