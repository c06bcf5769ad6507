// A launcher that is then killed (by launch.test.ts): starts a step's server
// with launchStep, prints `server PID`, and waits to be killed.
import { launchStep } from './launch.ts';

const server = await launchStep(process.argv[2] ?? '01', { args: ['--quiet'] });
console.log(`server ${server.child.pid}`);
setInterval(() => {}, 60_000); // stay alive until killed
