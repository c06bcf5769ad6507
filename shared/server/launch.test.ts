import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until } from '../threads/test-support.ts';

// A SIGKILLed launcher (a test run killed by a timeout, say) must leave no
// server behind, nor the server's own processes: see stopWithLauncher() in
// listen.ts.

const FIXTURE = fileURLToPath(new URL('./launcher.fixture.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); // a zombie is gone
  } catch {
    return false;
  }
};

/** The processes whose parent is `pid`, and theirs. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) found.push(Number(entry), ...descendants(Number(entry)));
    } catch {
      // it ended while we looked
    }
  }
  return found;
}

for (const step of ['01', '06']) {
  test(`launch: a SIGKILLed launcher leaves no step ${step} server (nor its worker processes) behind`, { timeout: 60_000 }, async () => {
    const launcher = spawn(process.execPath, ['--import', 'tsx', FIXTURE, step], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => {
      createInterface({ input: launcher.stdout! }).on('line', (text) => {
        if (text.startsWith('server ')) resolve(text);
      });
    });
    const serverPid = Number(line.split(' ')[1]);
    const processes = [serverPid, ...descendants(serverPid)];
    if (step === '06') assert.ok(processes.length >= 3, `step 06 runs worker processes (${processes.length} processes found)`);
    assert.ok(processes.every(alive));
    launcher.kill('SIGKILL');
    await until(() => !processes.some(alive), `the server and its processes end (${processes.filter(alive).join(', ')})`, 30_000);
  });
}
