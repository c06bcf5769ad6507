// Hold the lock only around the store: WORK (and --work-ms) run outside it, so others are not stalled.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BOUNDED, ask, withServer } from '../../../tester/harness/server-suites.ts';
import { closeClients, openClients, postRound } from '../../../tester/harness/contention.ts';

describe('exercise 03/lock-less', () => {
  const server = withServer('03', []);

  it('PING and GET on another connection keep answering while WORK 1500 runs (mutex)', BOUNDED, async () => {
    const [busy, other] = await openClients(2, server().host, server().port);
    let workDone = false;
    const work = busy!.send('WORK', '1500').then(() => (workDone = true));
    let answered = 0;
    while (!workDone) {
      assert.equal(await ask(other!, 'PING'), 'PONG');
      assert.equal(await ask(other!, 'GET', 'nothing'), '(nil)');
      if (!workDone) answered++;
    }
    await work;
    // Under a lock held for the whole WORK, the first PING waits 1.5 s: 0 or 1 answered.
    assert.ok(answered >= 5, `only ${answered} PING+GET pairs answered during WORK: is WORK still under the lock?`);
    await closeClients([busy!, other!]);
  });

  it('and the store commands still hold the lock: exactly one of 8 clients creates a fresh key', BOUNDED, async () => {
    const clients = await openClients(8, server().host, server().port);
    for (let r = 0; r < 20; r++) assert.equal(await postRound(clients, `dc:${r}`), 1);
    await closeClients(clients);
  });
});
