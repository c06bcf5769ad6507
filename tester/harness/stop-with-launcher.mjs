import { isMainThread } from 'node:worker_threads';

// Loaded into every server that tester/harness/launch.ts starts (tests, the
// tester, the benchmarks), with `--import`, before the server's own code: the
// server stops when the process that launched it ends, however it ends. Even
// a SIGKILLed test run must leave no server behind, and a killed process
// cannot stop its children itself.
//
// The launcher gives the server a stdin pipe that it never writes to. The
// pipe ends when the launcher's process is gone (the kernel closes its end),
// and the server then stops as on SIGTERM: gracefully, with its worker
// processes. The servers know nothing of this: started by hand, a server has
// no such module loaded and ignores stdin.
//
// Only in the launched process's main thread: the server's threads inherit
// its `--import` flags, and each one's process.stdin is a stream of its own
// that would end at once. Plain JavaScript, so that it needs no loader in
// any thread, on any Node version.
if (isMainThread) {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
  // Watching must not keep the server alive once it has stopped serving.
  process.stdin.unref?.();
}
