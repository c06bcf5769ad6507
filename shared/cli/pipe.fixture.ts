// For pipe.test.ts: a server started the way every step starts one (listen()),
// whose stdout reader is already gone. It says on stderr whether it is still
// serving once the failed write of its `listening on` line has been reported.
import net from 'node:net';
import { listen } from '../server/listen.ts';

const server = net.createServer();
await listen(server, '127.0.0.1', 0);
// A failed write's 'error' event comes on process.nextTick, before setImmediate.
setImmediate(() => {
  console.error('still serving');
  server.close();
});
