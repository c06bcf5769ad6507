import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply, type Reply } from '../../shared/protocol/reply.ts';
import { launchStep, stopAfter, type RunningServer } from '../../tester/harness/launch.ts';
import { REWRITE_PHASES } from '../../shared/persistence/log-rewrite.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { dump, killAndWaitForWorkers, tempDataDir, workerPids } from '../../tester/harness/persistence-suites.ts';
import { infoField } from '../../tester/harness/info.ts';
import { until } from '../../tester/harness/until.ts';

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

/** How long a rewrite, or a worker process's restart, may take on a loaded machine. */
const LIMIT_MS = 30_000;

function start(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunningServer> {
  return launchStep('06', { args: ['--quiet', '--data-dir', dir, ...args], env });
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
    await stopAfter(await start(dir, ['--aof-rewrite-min-size', '2048']), async (server) => {
      const admin = await Connection.open(server.host, server.port);
      let writing = true;
      const writers = write(server, 6, 600, model, 'w').finally(() => (writing = false));
      let asked = 0;
      while (writing) {
        assert.match(describeReply(await admin.send('BGREWRITEAOF')), /Background append only file rewriting (started|scheduled|already in progress)/);
        asked++;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await writers;
      await until(async () => (await infoField(admin, 'aof_rewrite_in_progress')) === '0', 'the rewrites have ended', LIMIT_MS);
      const rewrites = Number(await infoField(admin, 'aof_rewrites'));
      assert.ok(rewrites >= 2, `${rewrites} rewrites (BGREWRITEAOF asked ${asked} times)`);
      assert.equal(await infoField(admin, 'aof_last_bgrewrite_status'), 'ok');
      admin.destroy();
      await assertHolds(server, model, 'while serving');
    });
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
          await until(() => server.log().includes(`paused at ${phase}`), `the rewrite is stopped at ${phase}`, LIMIT_MS);
          await write(server, 3, 100, model, 'during'); // appends go on while the rewrite is stopped
          if (victim === 'server') {
            admin.destroy();
            await killAndWaitForWorkers(server);
          } else {
            const [worker] = workerPids(server);
            process.kill(worker!, 'SIGKILL');
            await until(() => processGone(worker!), 'the worker process is gone', LIMIT_MS);
            await until(async () => /restarts=1/.test((await infoField(admin, 'worker_0')) ?? ''), 'the worker process is restarted', LIMIT_MS);
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
          await until(async () => (await infoField(admin, 'aof_rewrites')) === '1', 'a rewrite after the restart', LIMIT_MS);
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

// Expiry and lists (issue 13) add records that change a key without
// replacing it (PEXPIREAT, TYPE, RPUSH, LPOP...): a rewrite folds them into
// each key's final state (log-rewrite.ts), and that state must come back.

/** What a key holds, as the clients see it: type, value or elements, and PEXPIRETIME (-1: none). */
interface KeyView { type: string; value: string | string[]; expiresAt: number }

/** A model of the keys, kept by `run()` from the commands it sends and their replies. */
class ExpiryListModel {
  readonly keys = new Map<string, KeyView>();
  constructor(private readonly connection: Connection) {}

  async run(...args: string[]): Promise<void> {
    const reply = await this.connection.send(...args);
    assert.notEqual(reply.type, 'error', `${args.join(' ')}: ${describeReply(reply)}`);
    const [command, key] = [args[0]!.toUpperCase(), args[1]!];
    const view = this.keys.get(key);
    const list = (): string[] => {
      if (view?.type === 'list') return view.value as string[];
      const fresh: KeyView = { type: 'list', value: [], expiresAt: -1 };
      this.keys.set(key, fresh);
      return fresh.value as string[];
    };
    switch (command) {
      case 'SET': {
        const keepTtl = args.includes('KEEPTTL');
        this.keys.set(key, { type: 'string', value: args[2]!, expiresAt: keepTtl && view ? view.expiresAt : -1 });
        if (args.includes('EX') || args.includes('PXAT')) await this.readExpiry(key);
        break;
      }
      case 'RPUSH': list().push(...args.slice(2)); break;
      case 'LPUSH': list().unshift(...args.slice(2).reverse()); break;
      case 'LPOP': case 'RPOP': {
        const elements = view!.value as string[];
        for (let n = Number(args[2] ?? 1); n > 0; n--) command === 'LPOP' ? elements.shift() : elements.pop();
        if (elements.length === 0) this.keys.delete(key);
        break;
      }
      case 'DEL': this.keys.delete(key); break;
      case 'EXPIRE': case 'PEXPIREAT': await this.readExpiry(key); break;
      case 'PERSIST': view!.expiresAt = -1; break;
      case 'INCR': this.keys.set(key, { type: 'string', value: text(reply), expiresAt: view?.expiresAt ?? -1 }); break;
      default: throw new Error(`the model does not know ${command}`);
    }
  }

  // The absolute time the server gave the key (EXPIRE is relative to its clock).
  private async readExpiry(key: string): Promise<void> {
    const reply = await this.connection.send('PEXPIRETIME', key);
    const at = Number(text(reply));
    assert.ok(at > Date.now() + 1_000_000, `${key} expires far in the future: ${describeReply(reply)}`);
    this.keys.get(key)!.expiresAt = at;
  }
}

/** A reply's value as text (an error reply fails the test). */
function text(reply: Reply): string {
  assert.notEqual(reply.type, 'error', describeReply(reply));
  return String((reply as { value: unknown }).value);
}

/** Every key the server holds, as KeyViews. */
async function viewAll(connection: Connection): Promise<Map<string, KeyView>> {
  const keys = await connection.send('KEYS', '*');
  assert.ok(keys.type === 'array' && keys.value !== null);
  const out = new Map<string, KeyView>();
  for (const item of keys.value) {
    const key = text(item);
    const type = text(await connection.send('TYPE', key));
    const content = type === 'list' ? await connection.send('LRANGE', key, '0', '-1') : await connection.send('GET', key);
    const value = content.type === 'array' ? content.value!.map(text) : text(content);
    out.set(key, { type, value, expiresAt: Number(text(await connection.send('PEXPIRETIME', key))) });
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('step 06: log rewrite with expiry and lists', () => {
  it('lists, expiry times and strings written before and after BGREWRITEAOF come back after restarts; the base holds no pops', { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const args = ['--workers', '2', '--aof-rewrite-percentage', '0'];
    const sorted = (model: ExpiryListModel) => new Map([...model.keys].sort(([a], [b]) => (a < b ? -1 : 1)));
    const server = await start(dir, args);
    let model: ExpiryListModel;
    try {
      const connection = await Connection.open(server.host, server.port);
      model = new ExpiryListModel(connection);
      const far = Date.now() + 5_000_000_000;
      for (let i = 0; i < 8; i++) {
        const key = `list:${i}`;
        for (let n = 0; n < 30; n += 3) await model.run('RPUSH', key, `r${n}`, `r${n + 1}`, `r${n + 2}`);
        await model.run('LPUSH', key, 'l0', 'l1');
        await model.run('LPOP', key);
        await model.run('LPOP', key, '2');
        await model.run('RPOP', key);
      }
      await model.run('EXPIRE', 'list:0', '2000000');
      await model.run('EXPIRE', 'list:1', '3000000');
      await model.run('PERSIST', 'list:1');
      await model.run('DEL', 'list:2');
      await model.run('RPUSH', 'list:2', 'again'); // a list deleted, then made again
      await model.run('EXPIRE', 'list:3', '2500000');
      await model.run('SET', 'list:3', 'now a string'); // a list overwritten: no elements, no expiry time
      await model.run('LPOP', 'list:4', '40'); // emptied: gone
      for (let i = 0; i < 24; i++) {
        const key = `s:${i}`;
        await model.run('SET', key, `v${i}`);
        if (i % 2 === 0) await model.run('EXPIRE', key, String(1_100_000 + i * 100_000));
        if (i % 4 === 0) await model.run('PERSIST', key);
        if (i % 3 === 0) await model.run('SET', key, `kept ${i}`, 'KEEPTTL');
        if (i % 5 === 0) await model.run('SET', key, `plain ${i}`); // forgets the time
        if (i % 7 === 0) await model.run('PEXPIREAT', key, String(far + i));
      }
      await model.run('SET', 's:ex', 'x', 'EX', '4000000');
      for (let i = 0; i < 5; i++) await model.run('INCR', 'counter');
      await model.run('EXPIRE', 'counter', '1500000');

      await connection.send('BGREWRITEAOF');
      await until(async () => Number(await infoField(connection, 'aof_rewrites')) >= 2 && (await infoField(connection, 'aof_rewrite_in_progress')) === '0',
        'both worker processes have rewritten their logs', LIMIT_MS);
      assert.equal(await infoField(connection, 'aof_last_bgrewrite_status'), 'ok');
      const bases = readdirSync(dir).filter((name) => /\.base\.\d+\.aof$/.test(name));
      assert.ok(bases.length >= 1, `a base was written: ${readdirSync(dir).join(', ')}`);
      const baseText = bases.map((name) => readFileSync(path.join(dir, name), 'latin1')).join('');
      assert.doesNotMatch(baseText, /\$4\r\n[LR]POP\r\n|\$5\r\nLPUSH\r\n/, 'the base holds lists as their elements, not their pushes and pops');
      assert.match(baseText, /\$5\r\nRPUSH\r\n/);
      assert.match(baseText, /\$9\r\nPEXPIREAT\r\n/);

      // More writes after the rewrite, on the same keys: into the new incr.
      await model.run('RPUSH', 'list:0', 'after');
      await model.run('LPOP', 'list:5');
      await model.run('LPUSH', 'list:6', 'front');
      await model.run('EXPIRE', 'list:6', '2200000');
      await model.run('PERSIST', 'list:0');
      await model.run('EXPIRE', 's:1', '1234567');
      await model.run('PERSIST', 's:2');
      await model.run('SET', 's:3', 'after', 'KEEPTTL');
      await model.run('DEL', 's:7');
      await model.run('RPUSH', 'list:new', 'n1', 'n2');
      await model.run('INCR', 'counter');

      assert.deepEqual(await viewAll(connection), sorted(model), 'the keys while serving');
      assert.equal(model.keys.get('list:3')?.type, 'string');
      assert.ok(!model.keys.has('list:4'));
      assert.ok(model.keys.get('list:0')!.expiresAt === -1 && model.keys.get('list:6')!.expiresAt > 0);
      connection.destroy();
    } finally {
      await server.stop();
    }
    for (const round of ['after a restart', 'after one more rewrite and restart']) {
      const again = await start(dir, args);
      try {
        const connection = await Connection.open(again.host, again.port);
        assert.deepEqual(await viewAll(connection), sorted(model!), `the keys ${round}\nserver log:\n${again.log()}`);
        if (round === 'after a restart') {
          await connection.send('BGREWRITEAOF');
          await until(async () => Number(await infoField(connection, 'aof_rewrites')) >= 2 && (await infoField(connection, 'aof_rewrite_in_progress')) === '0',
            'the logs are rewritten again', LIMIT_MS);
        }
        connection.destroy();
      } finally {
        await again.stop();
      }
    }
  });
});
