import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { launchStep, type RunningServer } from '../../shared/server/launch.ts';
import { REWRITE_PHASES } from '../../shared/persistence/log-rewrite.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { dump, infoField, killAndWaitForWorkers, tempDataDir, workerPids } from '../../shared/testing/persistence-suites.ts';

// Step 06 rewrites its logs while it serves (shared/persistence/log-rewrite.ts).
// Writes go on during rewrites and none is lost, duplicated or reordered; a
// SIGKILL at any phase of a rewrite loses nothing acknowledged (--durable)
// and leaves logs that replay.

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function dataDir(): string {
  const dir = tempDataDir();
  dirs.push(dir);
  return dir;
}

function start(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunningServer> {
  return launchStep('06', { args: ['--quiet', '--data-dir', dir, ...args], env });
}

/** Resolves once `condition()` holds, asking again every 20 ms; fails after `limitMs`. */
async function until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `clients` writers on keys of their own (SET, DEL, INCR): what each key holds, as acknowledged. */
async function write(server: RunningServer, clients: number, each: number, model: Map<string, string>, tag: string): Promise<void> {
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const connection = await Connection.open(server.host, server.port);
    try {
      for (let i = 0; i < each; i++) {
        const key = `${tag}:${c}:${i % 37}`;
        const roll = i % 10;
        if (roll === 9) {
          await connection.send('DEL', key);
          model.delete(key);
        } else if (roll === 8) {
          const reply = await connection.send('INCR', `${tag}:${c}:counter`);
          assert.equal(reply.type, 'integer', `INCR: ${describeReply(reply)}`);
          model.set(`${tag}:${c}:counter`, String(reply.value));
        } else {
          const value = `${tag}-${c}-${i}`;
          assert.equal(describeReply(await connection.send('SET', key, value)), 'OK');
          model.set(key, value);
        }
      }
    } finally {
      connection.destroy();
    }
  }));
}

async function assertHolds(server: RunningServer, model: Map<string, string>, when: string): Promise<void> {
  const connection = await Connection.open(server.host, server.port);
  try {
    assert.deepEqual(await dump(connection), model, `the data ${when}\nserver log:\n${server.log()}`);
  } finally {
    connection.destroy();
  }
}

describe('step 06: log rewrite while serving', () => {
  it('rewrites under concurrent writers (by themselves and on BGREWRITEAOF) lose nothing: the state, and its replay, equal a model', { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const model = new Map<string, string>();
    const server = await start(dir, ['--aof-rewrite-min-size', '2048']);
    try {
      const admin = await Connection.open(server.host, server.port);
      let writing = true;
      const writers = write(server, 6, 600, model, 'w').finally(() => (writing = false));
      let asked = 0;
      while (writing) {
        assert.match(describeReply(await admin.send('BGREWRITEAOF')), /Background append only file rewriting (started|scheduled)/);
        asked++;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await writers;
      await until(async () => (await infoField(admin, 'aof_rewrite_in_progress')) === '0', 'the rewrites have ended');
      const rewrites = Number(await infoField(admin, 'aof_rewrites'));
      assert.ok(rewrites >= 2, `${rewrites} rewrites (BGREWRITEAOF asked ${asked} times)`);
      assert.equal(await infoField(admin, 'aof_last_bgrewrite_status'), 'ok');
      admin.destroy();
      await assertHolds(server, model, 'while serving');
    } finally {
      await server.stop();
    }
    assert.ok(readdirSync(dir).some((name) => /\.base\.\d+\.aof$/.test(name)), 'the logs were rewritten into a base');
    const again = await start(dir);
    try {
      await assertHolds(again, model, 'after a restart on the rewritten logs');
    } finally {
      await again.stop();
    }
  });

  for (const phase of REWRITE_PHASES) {
    for (const victim of ['server', 'worker process'] as const) {
      it(`SIGKILL of the ${victim} with a rewrite stopped at '${phase}' loses nothing acknowledged (--durable), and the logs replay`, { timeout: 120_000 }, async () => {
        const dir = dataDir();
        const model = new Map<string, string>();
        const args = ['--durable', '--workers', '1', '--aof-rewrite-percentage', '0'];
        const server = await start(dir, args, { KV_REWRITE_PAUSE: phase });
        try {
          await write(server, 3, 100, model, 'before');
          const admin = await Connection.open(server.host, server.port);
          await admin.send('BGREWRITEAOF');
          await until(() => server.log().includes(`paused at ${phase}`), `the rewrite is stopped at ${phase}`);
          await write(server, 3, 100, model, 'during'); // appends go on while the rewrite is stopped
          if (victim === 'server') {
            admin.destroy();
            await killAndWaitForWorkers(server);
          } else {
            const [worker] = workerPids(server);
            process.kill(worker!, 'SIGKILL');
            await until(() => processGone(worker!), 'the worker process is gone');
            await until(async () => /restarts=1/.test((await infoField(admin, 'worker_0')) ?? ''), 'the worker process is restarted');
            await write(server, 3, 50, model, 'after'); // into the log the rewrite left
            await assertHolds(server, model, 'after the worker process restarted');
            admin.destroy();
            await killAndWaitForWorkers(server);
          }
        } finally {
          await server.stop('SIGKILL');
        }
        const again = await start(dir, args);
        try {
          await assertHolds(again, model, `after a SIGKILL of the ${victim} at ${phase}, on restart`);
          // And the logs still rewrite, and replay once more.
          const admin = await Connection.open(again.host, again.port);
          await admin.send('BGREWRITEAOF');
          await until(async () => (await infoField(admin, 'aof_rewrites')) === '1', 'a rewrite after the restart');
          admin.destroy();
        } finally {
          await again.stop();
        }
        const third = await start(dir, args);
        try {
          await assertHolds(third, model, 'after one more rewrite and restart');
        } finally {
          await third.stop();
        }
      });
    }
  }
});
