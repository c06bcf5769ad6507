// The ordering hazard, end to end: `npx tsx steps/05-workers/hazard-demo.ts free` (or by-key).
// Writes hot=old with 40 other keys in one pipeline, then hot=new alone; restarts
// the server on the same data directory and shows what replay brought back.
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { start, tempDataDir } from '../../tester/harness/persistence-suites.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)
const dispatch = process.argv[2] ?? 'free';
const dataDir = tempDataDir();
const args = ['--workers', '2', '--dispatch', dispatch, '--task-cpu-ms', '5'];
const s = await start('05', dataDir, args);
const c = await Connection.open(s.host, s.port);
await c.pipeline([['SET', 'hot', 'old'], ...Array.from({ length: 40 }, (_, i) => ['SET', `filler${i}`, 'x'])]);
await c.send('SET', 'hot', 'new');
console.log(`before restart, GET hot: ${describeReply(await c.send('GET', 'hot'))}`);
await c.close(); await s.stop();
const t = await start('05', dataDir, args);
const r = await Connection.open(t.host, t.port);
console.log(`after restart,  GET hot: ${describeReply(await r.send('GET', 'hot'))}`);
console.log(t.log().split('\n').filter((l) => /replayed|WARNING/.test(l)).join('\n'));
await r.close(); await t.stop();
