// For persister.test.ts: starts a Persister, prints its worker pids as one
// JSON line on stdout, then waits to be killed.
import { BY_KEY } from '../05-workers/dispatch/by-key.ts';
import { Persister } from './persister.ts';

const [dataDir, workers] = process.argv.slice(2);
const persister = await Persister.start({
  dataDir: dataDir!, workers: Number(workers), dispatch: BY_KEY, capacity: 100,
  durable: false, taskCpuMs: 0, firstSeq: 1,
});
console.log(JSON.stringify(persister.workerPids()));
setInterval(() => {}, 1 << 30); // stay alive until killed
