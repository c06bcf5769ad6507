import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { until } from '../../tester/harness/until.ts';
import { DataDirInUseError, ownDataDir, type Holder } from './ownership.ts';

// The claims protocol of ownership.ts with stand-in holders: small processes
// whose claims the test writes, as a server or a log worker would.

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kv-owner-'));
  dirs.push(dir);
  return dir;
}

/** A process that idles until killed (its pid stands for a holder). */
function idler(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

/** A pid that just ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function writeHolder(dir: string, holder: Partial<Holder> & { pid: number }): string {
  mkdirSync(path.join(dir, '.owners'), { recursive: true });
  const file = path.join(dir, '.owners', `${holder.pid}.claim`);
  writeFileSync(file, JSON.stringify({ role: 'log-worker', serverPid: holder.pid, startTime: null, bootId: null, ...holder }));
  return file;
}

const quiet = () => {};

describe('ownership of a data directory', () => {
  it('a free folder is owned at once, and released: the next server owns it too', async () => {
    const dir = dataDir();
    const claim = await ownDataDir(dir, 5, quiet);
    assert.ok(existsSync(claim.file));
    claim.release();
    assert.ok(!existsSync(claim.file));
    (await ownDataDir(dir, 5, quiet)).release();
  });

  it('a stale claim (its process is gone) does not block, and is deleted', async () => {
    const dir = dataDir();
    const stale = writeHolder(dir, { pid: await deadPid(), role: 'server' });
    (await ownDataDir(dir, 5, quiet)).release();
    assert.ok(!existsSync(stale), 'the stale claim was left behind');
  });

  it('a claim whose pid now belongs to another process (another start time) is stale', async () => {
    const dir = dataDir();
    const other = idler();
    writeHolder(dir, { pid: other.pid!, role: 'server', startTime: '1' }); // the pid runs, but started later
    (await ownDataDir(dir, 5, quiet)).release();
  });

  it('a running server holds the folder: refused at once, its pid in the message, our claim withdrawn', async () => {
    const dir = dataDir();
    const server = idler();
    writeHolder(dir, { pid: server.pid!, role: 'server' });
    await assert.rejects(ownDataDir(dir, 30, quiet), (caught: Error) =>
      caught instanceof DataDirInUseError && caught.message.includes(`pid ${server.pid}`));
    assert.ok(!existsSync(path.join(dir, '.owners', `${process.pid}.claim`)), 'the refused server left its claim');
  });

  it('a worker process of an ended server: the new server waits for it, says so, and owns the folder once it exits', async () => {
    const dir = dataDir();
    const worker = idler();
    writeHolder(dir, { pid: worker.pid!, role: 'log-worker', serverPid: await deadPid() });
    const said: string[] = [];
    let owned = false;
    const claim = ownDataDir(dir, 30, (line) => said.push(line)).then((c) => { owned = true; return c; });
    await until(() => said.length > 0, 'the server says why it waits');
    assert.match(said[0]!, new RegExp(`waiting for the log worker process with pid ${worker.pid}`));
    assert.equal(owned, false, 'owned while the old worker process ran');
    worker.kill('SIGKILL');
    (await claim).release();
    assert.match(said.at(-1)!, /is free now/);
  });

  it('a holder that makes no progress (stopped): the wait gives up after --owner-wait-s, naming its pid', async () => {
    const dir = dataDir();
    const stuck = idler();
    stuck.kill('SIGSTOP');
    writeHolder(dir, { pid: stuck.pid!, role: 'log-worker', serverPid: await deadPid() });
    await assert.rejects(ownDataDir(dir, 1, quiet), (caught: Error) =>
      caught instanceof DataDirInUseError && caught.message.includes(`pid ${stuck.pid}`) && /no progress for 1 s/.test(caught.message));
  });
});
