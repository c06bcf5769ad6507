// Step 01: a TCP key-value server on one thread.
//
// The lesson: Node's event loop serves many clients at once on a single
// thread. It never waits for one client: when bytes arrive from any socket,
// the loop runs our 'data' callback, we answer, and the loop moves on. That
// works as long as every callback is short. One slow command (try
// `WORK 3000`, or start with --work-ms) holds the only thread, and every
// other client waits behind it.
//
// Run it: npm run step -- 01        (or: npx tsx steps/01-tcp/server.ts --port 0)

import net from 'node:net';
import { SERVER_OPTIONS, describeOptions, parseOptions, stepUsage } from '../../shared/cli/options.ts';
import { executeCommand, type CommandContext } from '../../shared/commands/commands.ts';
import { VersionedStore, sharedKeyVersions } from '../../shared/commands/key-versions.ts';
import { ExpiringStore, activeExpireCycle, startActiveExpiry } from '../../shared/commands/expiry.ts';
import { Lists } from '../../shared/store/lists.ts';
import { MapStore } from '../../shared/store/map-store.ts';
import { ClientState, peerOf, type StoreAccess } from '../../shared/server/client-state.ts';
import { Session } from '../../shared/server/session.ts';
import { serveConnection } from '../../shared/server/connection.ts';
import { listen } from '../../shared/server/listen.ts';
import { dropAll, exitOnSignal } from '../../shared/server/shutdown.ts';
import { log, peerName } from '../../shared/server/log.ts';

const { values: options } = parseOptions(SERVER_OPTIONS, stepUsage('01-tcp'));
log(`step 01-tcp: ${describeOptions(options)}`);

// The data: a plain Map. Only this thread ever touches it, so no two commands
// can interleave: each one runs from start to end before the next begins.
// (VersionedStore: every write bumps its key's version, for WATCH.
// ExpiringStore: a key whose time has passed is never seen, and is reclaimed
// when met or by the active cycle below - shared/commands/expiry.ts.)
const versions = sharedKeyVersions();
const store = new ExpiringStore(new VersionedStore(new MapStore(), versions), { readsMayDelete: true });
// Lists' elements, beside the store; a blocked BLPOP is a promise, not a thread.
const lists = new Lists();
store.onReclaim = (key) => lists.forget(key);
startActiveExpiry(() => activeExpireCycle(store));
const startedAt = Date.now();
const sockets = new Set<net.Socket>();

const context: CommandContext = {
  store,
  betweenCheckAndAct: () => {}, // one thread: nothing can happen between check and act
  workMs: options.workMs,
  lists,
  canBlock: true,
  serverInfo: () => ({
    step: '01-tcp',
    uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
    connected_clients: sockets.size,
    threads: 1,
  }),
};

// One callback per connection. It does not wait for anything: it registers
// what to do when bytes arrive, and returns to the event loop at once.
const run = (args: Buffer[]) => executeCommand(args, context);
// A transaction needs no lock here: EXEC runs its queue in one go, and
// nothing else runs on this thread meanwhile. Inside it BLPOP does not wait
// (Redis's rule): canBlock is false.
const inTransaction: CommandContext = { ...context, canBlock: false };
const oneThread: StoreAccess = { exclusive: (body) => body((args) => executeCommand(args, inTransaction)) };

const server = net.createServer((socket) => {
  const peer = peerName(socket);
  sockets.add(socket);
  if (!options.quiet) log(`connection from ${peer} (${sockets.size} open)`);

  // The session parses this client's byte stream into requests (framing is
  // per connection) and runs each one on the store; its ClientState keeps
  // what HELLO, CLIENT SETNAME and MULTI/WATCH said.
  const session = new Session(run, new ClientState(oneThread, versions, peerOf(socket)), undefined, () => lists.takeBlocked());
  serveConnection(socket, session, () => {
    session.close();
    sockets.delete(socket);
    if (!options.quiet) log(`${peer} closed (${sockets.size} open)`);
  });
});

await listen(server, options.host, options.port);

// Ctrl+C or SIGTERM: stop accepting, close the remaining connections, exit.
exitOnSignal((signal) => {
  log(`${signal}: shutting down`);
  return dropAll(server, sockets);
});
