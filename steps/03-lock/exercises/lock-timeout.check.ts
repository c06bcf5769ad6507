// --lock-timeout-ms N: a command that cannot get the lock within N ms gets -BUSY instead of waiting.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BOUNDED, ask, withServer } from '../../../tester/harness/server-suites.ts';
import { closeClients, openClients } from '../../../tester/harness/contention.ts';

describe('exercise 03/lock-timeout', () => {
  // A 1.5 s race window: a POST of a fresh key holds the lock that long.
  const server = withServer('03', ['--lock-timeout-ms', '200', '--race-window-ms', '1500']);

  it('while a slow POST holds the mutex, a GET elsewhere gets BUSY; afterwards GET works', BOUNDED, async () => {
    const [busy, other] = await openClients(2, server().host, server().port);
    let workDone = false;
    const work = busy!.send('POST', 'slow', 'x').then(() => (workDone = true));
    const replies: string[] = [];
    while (!workDone) replies.push(await ask(other!, 'GET', 'k'));
    await work;
    const refused = replies.filter((reply) => reply.startsWith('BUSY '));
    assert.ok(refused.length >= 1, `no BUSY while the lock was held; replies: ${replies.join(', ')}`);
    assert.ok(refused.length <= 1500 / 200 + 2, `too many BUSY replies (${refused.length}): does it wait 200 ms first?`);
    assert.match(refused[0]!, /lock/i, 'the BUSY message should say that the lock was not available');
    assert.equal(await ask(other!, 'GET', 'slow'), '"x"');
    await closeClients([busy!, other!]);
  });
});
