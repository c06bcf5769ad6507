// --lock store: a mutex around each store call keeps the table sound, yet POST still double-creates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BOUNDED, withServer } from '../../../tester/harness/server-suites.ts';
import { dumpAndSize, postRound, withClients } from '../../../tester/harness/contention.ts';
import { info } from '../../../tester/harness/info.ts';

describe('exercise 02/store-lock', () => {
  const server = withServer('02', ['--lock', 'store']);
  const clients = withClients(server, 8);

  it('the table stays sound: 8 clients x 200 keys of their own, all there, store_problems 0', BOUNDED, async () => {
    for (let round = 0; round < 3; round++) {
      await Promise.all(clients.map((c, i) =>
        c.pipeline(Array.from({ length: 200 }, (_, k) => ['POST', `own:${round}:c${i}:k${k}`, `c${i}`]))));
      const { dump, dbsize } = await dumpAndSize(clients[0]!);
      for (let i = 0; i < 8; i++) {
        for (let k = 0; k < 200; k++) assert.equal(dump.get(`own:${round}:c${i}:k${k}`), `c${i}`);
      }
      assert.equal(dbsize, dump.size);
      assert.equal((await info(clients[0]!)).get('store_problems'), '0');
    }
  });

  it('and yet a fresh key is still created twice: the check and the act are two calls', BOUNDED, async () => {
    let doubled = 0;
    for (let r = 0; r < 20; r++) if ((await postRound(clients, `dc:${r}`)) > 1) doubled++;
    assert.ok(doubled >= 1, 'no double create in 20 rounds: is the lock around the whole command?');
  });
});
