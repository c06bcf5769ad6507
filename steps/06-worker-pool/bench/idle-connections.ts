// Memory of step 06 (server, pool threads, worker processes) with N idle
// connections open: the resident memory (VmRSS, from /proc) of the server and
// of every process it started, added up.
//
//   npx tsx steps/06-worker-pool/bench/idle-connections.ts [CONNECTIONS] [STEP] [SERVER OPTIONS...]
//   npx tsx steps/06-worker-pool/bench/idle-connections.ts 1000 06

import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '../../../shared/client/connection.ts';
import { launchStep } from '../../../tester/harness/launch.ts';
import { processTree } from '../../../tester/proc-stats.ts';
import { exitWhenOutputCloses } from '../../../shared/cli/pipe.ts';
import { stepLine } from '../../../tester/progress.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const [count = '1000', step = '06', ...serverArgs] = process.argv.slice(2);
const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
line.step(`starting step ${step}`);
const dataDir = mkdtempSync(path.join(tmpdir(), 'idle-'));
const needsDataDir = Number(step) >= 4;
const server = await launchStep(step, { args: ['--quiet', ...(needsDataDir ? ['--data-dir', dataDir] : []), ...serverArgs] });

const rssMb = (pid: number) => {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))![1]) / 1024;
  } catch {
    return 0;
  }
};
const report = (label: string) => {
  line.clear();
  const pids = processTree(server.child.pid!);
  const parts = pids.map((pid) => rssMb(pid));
  const total = parts.reduce((a, b) => a + b, 0);
  console.log(`${label.padEnd(24)} ${total.toFixed(0).padStart(4)} MB in ${pids.length} processes ` +
    `(${parts.map((mb) => mb.toFixed(0)).join(' + ')} MB)`);
};

report('started, no connections');
const connections: Connection[] = [];
for (let i = 0; i < Number(count); i++) {
  line.step(`connection ${i + 1}/${count} to step ${step}`);
  const connection = await Connection.open(server.host, server.port);
  connections.push(connection);
}
line.step(`a PING on each of the ${count} connections`);
// Every connection answered once: the server has really set each one up.
await Promise.all(connections.map((c) => c.send('PING')));
report(`${count} idle connections`);
for (const c of connections) c.destroy();
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
