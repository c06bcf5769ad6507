import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processTree } from '../proc-stats.ts';
import { processGone } from '../../shared/persistence/process-gone.ts';
import { until } from './until.ts';

// A SIGKILLed launcher (a test run killed by a timeout, say) must leave no
// server behind, nor the server's own processes: see stop-with-launcher.mjs.

const FIXTURE = fileURLToPath(new URL('./launcher.fixture.ts', import.meta.url));

for (const step of ['01', '06']) {
  test(`launch: a SIGKILLed launcher leaves no step ${step} server (nor its worker processes) behind`, { timeout: 60_000 }, async () => {
    const launcher = spawn(process.execPath, ['--import', 'tsx', FIXTURE, step], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => {
      createInterface({ input: launcher.stdout! }).on('line', (text) => {
        if (text.startsWith('server ')) resolve(text);
      });
    });
    const serverPid = Number(line.split(' ')[1]);
    const processes = processTree(serverPid);
    if (step === '06') assert.ok(processes.length >= 3, `step 06 runs worker processes (${processes.length} processes found)`);
    assert.ok(!processes.some(processGone));
    launcher.kill('SIGKILL');
    await until(() => processes.every(processGone), `the server and its processes end (${processes.filter((pid) => !processGone(pid)).join(', ')})`, 30_000);
  });
}
