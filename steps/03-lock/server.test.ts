import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ask, commandSuite, hostileInputSuite, withServer } from '../../tester/harness/server-suites.ts';
import { deleteRound, dumpAndSize, incrRound, postRound, withClients } from '../../tester/harness/contention.ts';
import { info } from '../../tester/harness/info.ts';

// Step 03's tests. Run them alone with: npm run test:step -- 03
//
// The same load that breaks step 02 every time (steps/02-threads/server.test.ts),
// with the same 1 ms race window, against step 03 with each lock: not a single
// anomaly, over many rounds.

commandSuite('03');
commandSuite('03', ['--lock', 'rw']);
hostileInputSuite('03');

for (const lock of ['mutex', 'rw'] as const) {
  describe(`step 03 --lock ${lock}: the races of step 02 are gone`, () => {
    const server = withServer('03', ['--lock', lock]);
    const clients = withClients(server, 8);

    it('exactly one of 8 clients creates a fresh key, in each of 50 rounds', async () => {
      for (let r = 0; r < 50; r++) assert.equal(await postRound(clients, `dc:${r}`), 1, `round ${r + 1}`);
    });

    it('no lost update: 8 clients x 5 INCRs end at exactly 40, in each of 10 rounds', async () => {
      for (let r = 0; r < 10; r++) {
        assert.deepEqual(await incrRound(clients, `lu:${r}`, 5), { acknowledged: 40, final: 40 }, `round ${r + 1}`);
      }
    });

    it('exactly one of 8 clients deletes a key, in each of 50 rounds', async () => {
      for (let r = 0; r < 50; r++) {
        assert.equal(await ask(clients[0]!, 'POST', `dd:${r}`, 'x'), 'OK');
        assert.equal(await deleteRound(clients, `dd:${r}`), 1, `round ${r + 1}`);
      }
    });

    it('8 clients each POST 100 keys of their own: every key is there with its own value', async () => {
      // (Each POST holds the lock through its 1 ms window: 800 POSTs take about 0.8 s.)
      await Promise.all(clients.map((c, i) =>
        c.pipeline(Array.from({ length: 100 }, (_, k) => ['POST', `le:c${i}:k${k}`, `c${i}`]))));
      const { dump } = await dumpAndSize(clients[0]!);
      for (let i = 0; i < 8; i++) {
        for (let k = 0; k < 100; k++) assert.equal(dump.get(`le:c${i}:k${k}`), `c${i}`);
      }
    });

    it('the final DUMP holds exactly what was acknowledged, DBSIZE agrees, the table checks clean', async () => {
      const { dump, dbsize } = await dumpAndSize(clients[0]!);
      const expected = new Map<string, string>();
      for (let r = 0; r < 50; r++) assert.match(dump.get(`dc:${r}`) ?? '', /^client[0-7]$/);
      for (let r = 0; r < 10; r++) expected.set(`lu:${r}`, '40');
      for (let r = 0; r < 50; r++) assert.equal(dump.has(`dd:${r}`), false);
      for (const [key, value] of expected) assert.equal(dump.get(key), value);
      assert.equal(dump.size, 50 + 10 + 800);
      assert.equal(dbsize, dump.size);
      const fields = await info(clients[0]!);
      assert.equal(fields.get('lock'), lock);
      assert.equal(fields.get('store_problems'), '0', fields.get('store_first_problem'));
    });
  });
}
