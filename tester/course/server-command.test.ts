import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { ROOT, findStep } from '../../shared/cli/steps.ts';
import { serverArgv } from './server-command.ts';

// `npm run step -- 06` runs step 06's server from a bundle: it must behave
// as the .ts source does where the bundle could differ: files found from
// each module's own address (the pool thread's and the worker process's
// bundles, the data folder).

/** Runs `npm run step -- 06 ...ARGS` until it listens; resolves with its port and a way to stop it. */
async function npmStep06(args: string[]) {
  // A process group of its own: if the test ends first, npm, the launcher
  // and the server all go (a SIGKILL of npm alone leaves them).
  const child = spawn('npm', ['run', '--silent', 'step', '--', '06', '--port', '0', '--quiet', ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // (already gone)
    }
  };
  process.once('exit', kill);
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'listening on' within 60 s:\n${log}`)), 60_000);
    void exited.then((code) => reject(new Error(`exited (${code}) before listening:\n${log}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening on .+:(\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return {
    port,
    log: () => log,
    async shutdown() {
      const connection = await Connection.open('127.0.0.1', port);
      await connection.send('SHUTDOWN').catch(() => {});
      connection.destroy();
      const code = await exited;
      process.off('exit', kill);
      return code;
    },
  };
}

describe('course: how npm run step starts a server', () => {
  it('step 06 runs from a bundle whose modules keep their own addresses; steps 01-05 through tsx', () => {
    const argv = serverArgv('06-worker-pool', findStep('06').server);
    const bundle = argv.at(-1)!;
    assert.match(bundle, /node_modules\/\.cache\/kv-course\/server-[0-9a-f]{16}\.mjs$/);
    const code = readFileSync(bundle, 'utf8');
    assert.ok(code.includes(JSON.stringify(pathToFileURL(path.join(ROOT, 'steps/06-worker-pool/thread-pool.ts')).href)),
      "thread-pool.ts's import.meta.url is its own file's");
    assert.equal(serverArgv('06-worker-pool', findStep('06').server).at(-1), bundle, 'the same bundle again, taken from the cache');
    assert.deepEqual(serverArgv('03-lock', findStep('03').server), ['--import', 'tsx', findStep('03').server]);
  });

  it('npm run step -- 06: pool threads, worker processes and replay work from the bundle', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kv-npm-step-'));
    try {
      let server = await npmStep06(['--data-dir', dataDir]);
      let connection = await Connection.open('127.0.0.1', server.port);
      assert.equal(describeReply(await connection.send('SET', 'greeting', 'hello')), 'OK');
      // WORK runs on a pool thread, started from its own bundle.
      assert.equal(describeReply(await connection.send('WORK', '1')), 'OK');
      connection.destroy();
      assert.equal(await server.shutdown(), 0);
      server = await npmStep06(['--data-dir', dataDir]);
      assert.match(server.log(), /replayed 1 records .*: 1 keys/);
      connection = await Connection.open('127.0.0.1', server.port);
      assert.equal(describeReply(await connection.send('GET', 'greeting')), '"hello"', 'the worker process wrote it, replay read it');
      connection.destroy();
      assert.equal(await server.shutdown(), 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
