// Read-modify-write under contention, four ways, on step 06 and on
// redis-server, in one run: the tester's get-then-set, watch, client-lock and
// server-incr scenarios (tester/scenarios/read-modify-write.ts) with 2, 8 and
// 32 clients, interleaved, each RUNS times; prints the medians.
//
//   npx tsx tester/bench/read-modify-write.ts [RUNS]
//
// Figures: increments acknowledged per second, attempts per increment (WATCH:
// EXECs sent per EXEC that ran; client-lock: SET NX sent per lock taken), and
// increments lost (acknowledged, not in the counter).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stepLine } from '../progress.ts';
import { launchStep } from '../harness/launch.ts';
import { TESTER_DEFAULTS, type ScenarioName } from '../options.ts';
import { runTester } from '../run.ts';
import { formatTable } from '../report.ts';

const runs = Number(process.argv[2] ?? 3);
const modes: ScenarioName[] = ['get-then-set', 'watch', 'client-lock', 'server-incr'];
const clientCounts = [2, 8, 32];

const line = stepLine(); // the progress line, on stderr (tester/progress.ts)
line.step('starting step 06 and redis-server');
const dataDir = mkdtempSync(path.join(tmpdir(), 'rmw-'));
const step06 = await launchStep('06', { args: ['--quiet', '--data-dir', dataDir] });
const targets: Array<{ name: string; port: number; dialect: 'native' | 'redis' }> = [{ name: 'step 06', port: step06.port, dialect: 'native' }];
let redis: ReturnType<typeof spawn> | null = null;
if (spawnSync('redis-server', ['--version']).status === 0) {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => redis?.kill('SIGKILL'));
  await new Promise<void>((resolve) => createInterface({ input: redis!.stdout! }).on('line', (line) => {
    if (/Ready to accept connections/.test(line)) resolve();
  }));
  targets.push({ name: 'redis-server', port, dialect: 'redis' });
} else {
  line.clear();
  console.log('(redis-server is not installed: step 06 only)');
}

const perRun = clientCounts.length * modes.length * targets.length;
const figures = new Map<string, Array<Record<string, string | number>>>();
for (let run = 1; run <= runs; run++) {
  let scenario = 0;
  for (const clients of clientCounts) {
    for (const mode of modes) {
      for (const target of targets) {
        line.step(`run ${run}/${runs}, scenario ${++scenario}/${perRun}: ${mode}, ${clients} clients, ${target.name}`);
        const report = await runTester({
          ...TESTER_DEFAULTS, port: target.port, dialect: target.dialect, scenario: mode,
          contentionClients: clients, rounds: 10, incrs: 10,
        });
        if (report.verdict === 'ERROR') throw new Error(`${mode} on ${target.name}: ${report.error}`);
        const key = `${target.name}|${clients}|${mode}`;
        figures.set(key, [...(figures.get(key) ?? []), report.scenarios[0]!.figures]);
      }
    }
  }
  line.clear();
  process.stderr.write(`run ${run}/${runs} done\n`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rows: string[][] = [];
for (const target of targets) {
  for (const clients of clientCounts) {
    for (const mode of modes) {
      const all = figures.get(`${target.name}|${clients}|${mode}`)!;
      const pick = (name: string) => median(all.map((f) => Number(f[name])));
      rows.push([target.name, String(clients), mode, String(pick('increments per second')),
        pick('attempts per increment').toFixed(2), `${pick('increments lost (acknowledged, not counted)')} of ${pick('increments acknowledged')}`]);
    }
  }
}
console.log(`read-modify-write increments, 10 rounds x 10 per client, medians of ${runs} runs:`);
console.log(formatTable(['server', 'clients', 'done with', 'increments/s', 'attempts each', 'lost'], rows));
await step06.stop();
redis?.kill('SIGTERM');
rmSync(dataDir, { recursive: true, force: true });
