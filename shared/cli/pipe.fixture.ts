// For pipe.test.ts: a server started the way every step starts one (a log
// line, then listen()), whose stdout (or stderr too) reader is already gone.
// It ends with exit status 0, and says so on stderr, if it was still serving
// once the failed writes had been reported.
import net from 'node:net';
import { listen } from '../server/listen.ts';
import { log } from '../server/log.ts';

log('pipe fixture: starting');
// Start-up work between the first log line and listen(), as in steps 04-06 (replay).
await new Promise((resolve) => setImmediate(resolve));
const server = net.createServer();
await listen(server, '127.0.0.1', 0);
// A failed write's 'error' event comes on process.nextTick, before setImmediate.
setImmediate(() => {
  console.error('still serving');
  server.close();
});
