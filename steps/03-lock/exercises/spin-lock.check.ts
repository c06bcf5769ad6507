// --lock spin: a spin lock (compareExchange in a loop, no Atomics.wait) that is just as correct.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BOUNDED, withServer } from '../../../tester/harness/server-suites.ts';
import { incrRound, postRound, withClients } from '../../../tester/harness/contention.ts';
import { info } from '../../../tester/harness/info.ts';

describe('exercise 03/spin-lock', () => {
  const server = withServer('03', ['--lock', 'spin']);
  const clients = withClients(server, 8);

  it('INFO says lock:spin', BOUNDED, async () => {
    assert.equal((await info(clients[0]!)).get('lock'), 'spin');
  });

  it('exactly one of 8 clients creates a fresh key, in each of 30 rounds', BOUNDED, async () => {
    for (let r = 0; r < 30; r++) assert.equal(await postRound(clients, `dc:${r}`), 1, `round ${r + 1}`);
  });

  it('no lost update: 8 clients x 5 INCRs end at exactly 40, in each of 5 rounds', BOUNDED, async () => {
    for (let r = 0; r < 5; r++) {
      assert.deepEqual(await incrRound(clients, `lu:${r}`, 5), { acknowledged: 40, final: 40 });
    }
  });
});
