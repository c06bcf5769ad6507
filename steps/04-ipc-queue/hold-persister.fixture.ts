// For persister.test.ts: starts a Persister, prints its worker pids as one
// JSON line on stdout, then waits to be killed.
import { ONE_WORKER, Persister } from './persister.ts';

const [dataDir] = process.argv.slice(2);
const persister = await Persister.start({
  dataDir: dataDir!, workers: 1, dispatch: ONE_WORKER, capacity: 100,
  durable: false, taskCpuMs: 0, firstSeq: 1,
});
console.log(JSON.stringify(persister.workerPids()));
setInterval(() => {}, 1 << 30); // stay alive until killed
