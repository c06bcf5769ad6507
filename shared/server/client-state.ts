import type { Socket } from 'node:net';
import { validateCommand } from '../commands/commands.ts';
import type { KeyVersions } from '../commands/key-versions.ts';
import type { Protocol } from '../protocol/encode.ts';
import { OK, array, bulk, error, integer, map, simple, verbatim, type Reply } from '../protocol/reply.ts';

// What a server knows about one connection, beyond its bytes: the commands
// that belong to the connection rather than to the store.
//
//   HELLO [2|3 [AUTH user pass] [SETNAME name]]  the RESP version it speaks
//   CLIENT ID|SETNAME|GETNAME|INFO|LIST|SETINFO   who it is
//   AUTH, SELECT 0                                what clients send at connect
//   MULTI, EXEC, DISCARD, WATCH, UNWATCH          its transaction
//
// Every step keeps one ClientState per connection, where it keeps the
// connection: step 01 and step 06 on the event loop (beside the socket),
// steps 02-05 in the connection's own thread (shared/threads/thread-session.ts,
// through Session). `handle()` is asked first about every request; it returns
// the reply of a request that is its business, or null for "run it on the
// store as usual".
//
// TRANSACTIONS. Between MULTI and EXEC, requests are checked (a known command
// with a valid number of arguments) and queued, each answered +QUEUED. EXEC
// runs the queue holding the step's exclusive lock once (StoreAccess.exclusive:
// the mutex, or the write side of the read-write lock), so no other client's
// command runs between two of them: that is what MULTI buys. A request that
// could not be queued makes EXEC answer EXECABORT and run nothing.
// WATCH key... remembers the keys' versions (key-versions.ts); EXEC, under the
// same lock, first checks that none moved, and otherwise runs nothing and
// answers a null array: the client reads again and retries (check-and-set).
// See docs/transactions.md for the lesson and the measurements.

/** How a step runs commands for a transaction. */
export interface StoreAccess {
  /**
   * Runs `body` holding the step's exclusive lock (none in step 02). `run`
   * executes one command without taking the lock again.
   */
  exclusive<T>(body: (run: (args: Buffer[]) => Reply) => T): T;
  /** Step 02's race window, between EXEC's check of the watched keys and its commands. */
  betweenCheckAndAct?: () => void;
}

/** Who the connection is, for CLIENT INFO and CLIENT LIST. */
export interface Peer {
  addr?: string;
  laddr?: string;
}

/** A socket's two ends as `host:port`, for CLIENT INFO. */
export function peerOf(socket: Socket): Peer {
  return { addr: `${socket.remoteAddress}:${socket.remotePort}`, laddr: `${socket.localAddress}:${socket.localPort}` };
}

// Pretend to be the Redis whose replies we copy: clients read these fields.
/** The Redis whose commands and protocol the course follows: HELLO, INFO and the RDB header say it. */
export const REDIS_VERSION = '7.0.15';
const SERVER_FIELDS: Array<[string, Reply]> = [['server', bulk('redis')], ['version', bulk(REDIS_VERSION)]];

const QUEUED = simple('QUEUED');

// A transaction's queue lives in the server's memory until EXEC: bounded, so
// that a client sending MULTI and then requests forever cannot exhaust it.
// Past a bound the request is refused and the transaction aborts at EXEC.
export const MAX_QUEUED_COMMANDS = 100_000;
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
const NIL_ARRAY = array(null);

// The connection's commands, with how many arguments they take (after the name).
const CONNECTION_COMMANDS: Record<string, { min: number; max: number; summary: string; usage: string }> = {
  HELLO: { min: 0, max: 6, usage: 'HELLO [2|3 [AUTH user pass] [SETNAME name]]', summary: 'choose RESP2 or RESP3; replies who the server is' },
  AUTH: { min: 1, max: 2, usage: 'AUTH [user] password', summary: 'accepted for user default (no passwords here)' },
  SELECT: { min: 1, max: 1, usage: 'SELECT 0', summary: 'there is one database, number 0' },
  CLIENT: { min: 1, max: Infinity, usage: 'CLIENT ID|SETNAME|GETNAME|INFO|LIST|SETINFO', summary: 'this connection: its id, name, figures' },
  MULTI: { min: 0, max: 0, usage: 'MULTI', summary: 'start a transaction: the next commands are queued' },
  EXEC: { min: 0, max: 0, usage: 'EXEC', summary: 'run the queued commands atomically (null if a watched key changed)' },
  DISCARD: { min: 0, max: 0, usage: 'DISCARD', summary: 'forget the queued commands' },
  WATCH: { min: 1, max: Infinity, usage: 'WATCH key [key ...]', summary: 'EXEC runs only if none of these keys is written before it' },
  UNWATCH: { min: 0, max: 0, usage: 'UNWATCH', summary: 'forget the watched keys' },
};

/** The connection's commands' names (HELLO, MULTI...), for the check that docs/protocol.md lists them all. */
export const CONNECTION_COMMAND_NAMES: readonly string[] = Object.keys(CONNECTION_COMMANDS);

/** Usage lines of the connection's commands, for HELP. */
export const CONNECTION_HELP: ReadonlyArray<[string, string]> =
  Object.values(CONNECTION_COMMANDS).map(({ usage, summary }) => [usage, summary]);

/**
 * Whether a request is QUIT (any case, no arguments). QUIT belongs to the
 * connection, not to the store: the code that reads a connection's requests
 * replies +OK, sends what it holds, closes, and runs nothing after it.
 */
export function isQuit(args: readonly Buffer[]): boolean {
  return args.length === 1 && args[0]!.length === 4 && args[0]!.toString('latin1').toUpperCase() === 'QUIT';
}

// Executed at once even inside MULTI (as Redis does).
const NOT_QUEUED = new Set(['EXEC', 'DISCARD', 'MULTI', 'WATCH']);

// Every connection's state on this thread (for CLIENT LIST): all of them in
// steps 01 and 06, the one connection of the thread in steps 02-05.
const CLIENTS = new Set<ClientState>();
let nextId = 1;

export class ClientState {
  /** The RESP version of this connection's replies: set the reply writer's from it after each request. */
  protocol: Protocol = 2;
  readonly id: number;
  private name = '';
  private libName = '';
  private libVersion = '';
  private readonly createdAt = Date.now();
  private lastCommandAt = Date.now();
  private lastRequest: Buffer[] | null = null; // for CLIENT INFO's cmd=, named only when asked
  private queue: Buffer[][] | null = null; // MULTI: the queued requests
  private queueFailed = false; // a request could not be queued: EXEC aborts
  private queuedBytes = 0;
  private watched = new Map<number, number>(); // version bucket -> version when watched

  constructor(
    private readonly access: StoreAccess,
    private readonly versions: KeyVersions,
    private readonly peer: Peer = {},
    id?: number,
  ) {
    this.id = id ?? nextId++;
    CLIENTS.add(this);
  }

  /** The connection is gone: CLIENT LIST forgets it. */
  close(): void {
    CLIENTS.delete(this);
  }

  /** Whether a transaction is open (its requests are queued, not run). */
  get inMulti(): boolean {
    return this.queue !== null;
  }

  /** Whether handle() would answer this request itself (without doing it). */
  owns(args: Buffer[]): boolean {
    return this.queue !== null || connectionCommand(args[0]!) !== null;
  }

  /**
   * The reply to `args` when the request is the connection's (HELLO, MULTI...)
   * or is queued in a transaction; null when the caller should run it as usual.
   */
  handle(args: Buffer[]): Reply | null {
    this.lastRequest = args;
    this.lastCommandAt = Date.now();
    const name = connectionCommand(args[0]!);
    if (this.queue === null) {
      if (name === null) return null; // the usual case, decided from the name's length and first byte
      return this.runConnectionCommand(name, args);
    }
    if (name !== null && NOT_QUEUED.has(name)) return this.runConnectionCommand(name, args);
    const invalid = name === null ? validateCommand(args) : arityError(name, args);
    if (invalid !== null) {
      this.queueFailed = true;
      return invalid;
    }
    const bytes = args.reduce((sum, arg) => sum + arg.length, 0);
    if (this.queue.length >= MAX_QUEUED_COMMANDS || this.queuedBytes + bytes > MAX_QUEUED_BYTES) {
      this.queueFailed = true;
      return error('ERR', `transaction too large: at most ${MAX_QUEUED_COMMANDS} commands and ` +
        `${MAX_QUEUED_BYTES / 1024 / 1024} MB may be queued; EXEC will abort`);
    }
    this.queuedBytes += bytes;
    this.queue.push(args.map((arg) => Buffer.from(arg))); // copies: the parser's buffers are reused
    return QUEUED;
  }

  /** The last request's name as CLIENT INFO shows it: `get`, `client|info`. */
  private lastCommand(): string {
    const args = this.lastRequest;
    if (args === null) return 'NULL';
    const name = args[0]!.toString('latin1').toLowerCase();
    return name === 'client' && args[1] ? `client|${args[1].toString('latin1').toLowerCase()}` : name;
  }

  private runConnectionCommand(name: string, args: Buffer[]): Reply {
    const invalid = arityError(name, args);
    if (invalid !== null) return invalid;
    const rest = args.slice(1);
    switch (name) {
      case 'HELLO': return this.hello(rest);
      case 'AUTH': return auth(rest);
      case 'SELECT': return select(rest[0]!);
      case 'CLIENT': return this.client(rest);
      case 'MULTI':
        if (this.queue !== null) return error('ERR', 'MULTI calls can not be nested');
        this.queue = [];
        this.queueFailed = false;
        this.queuedBytes = 0;
        return OK;
      case 'DISCARD':
        if (this.queue === null) return error('ERR', 'DISCARD without MULTI');
        this.queue = null;
        this.watched.clear();
        return OK;
      case 'WATCH':
        if (this.queue !== null) return error('ERR', 'WATCH inside MULTI is not allowed');
        for (const key of rest) {
          const bucket = this.versions.bucketOf(key);
          // Watched twice: the first version counts (a write since then must abort).
          if (!this.watched.has(bucket)) this.watched.set(bucket, this.versions.version(bucket));
        }
        return OK;
      case 'UNWATCH':
        this.watched.clear();
        return OK;
      case 'EXEC':
        return this.exec();
      default:
        throw new Error(`no handler for ${name}`);
    }
  }

  private exec(): Reply {
    if (this.queue === null) return error('ERR', 'EXEC without MULTI');
    const queue = this.queue;
    const failed = this.queueFailed;
    const watched = [...this.watched];
    this.queue = null;
    this.watched.clear();
    if (failed) return error('EXECABORT', 'Transaction discarded because of previous errors.');
    return this.access.exclusive((run) => {
      // Under the lock: no write can come between this check and the commands.
      for (const [bucket, version] of watched) {
        if (this.versions.version(bucket) !== version) return NIL_ARRAY;
      }
      if (watched.length > 0) this.access.betweenCheckAndAct?.();
      return array(queue.map((request) => {
        const name = connectionCommand(request[0]!);
        return name === null ? run(request) : this.runConnectionCommand(name, request);
      }));
    });
  }

  private hello(args: Buffer[]): Reply {
    let protocol = this.protocol;
    let setName: string | null = null;
    if (args.length > 0) {
      const version = parseSmallInteger(args[0]!);
      if (version === null) return error('ERR', 'Protocol version is not an integer or out of range');
      if (version !== 2 && version !== 3) return error('NOPROTO', 'unsupported protocol version');
      protocol = version;
      for (let i = 1; i < args.length; i++) {
        const option = args[i]!.toString('latin1');
        const upper = option.toUpperCase();
        if (upper === 'AUTH' && i + 2 < args.length) {
          const denied = auth([args[i + 1]!, args[i + 2]!]);
          if (denied.type === 'error') return denied;
          i += 2;
        } else if (upper === 'SETNAME' && i + 1 < args.length) {
          setName = args[++i]!.toString('utf8');
          if (!validName(setName)) return error('ERR', 'Client names cannot contain spaces, newlines or special characters.');
        } else {
          return error('ERR', `Syntax error in HELLO option '${option}'`);
        }
      }
    }
    this.protocol = protocol;
    if (setName !== null) this.name = setName;
    return map([
      ...SERVER_FIELDS,
      ['proto', integer(this.protocol)],
      ['id', integer(this.id)],
      ['mode', bulk('standalone')],
      ['role', bulk('master')],
      ['modules', array([])],
    ]);
  }

  private client(args: Buffer[]): Reply {
    const sub = args[0]!.toString('latin1').toUpperCase();
    const wrongArity = () => error('ERR', `wrong number of arguments for 'client|${sub.toLowerCase()}' command`);
    switch (sub) {
      case 'ID':
        return args.length === 1 ? integer(this.id) : wrongArity();
      case 'GETNAME':
        return args.length === 1 ? bulk(this.name === '' ? null : this.name) : wrongArity();
      case 'SETNAME': {
        if (args.length !== 2) return wrongArity();
        const name = args[1]!.toString('utf8');
        if (!validName(name)) return error('ERR', 'Client names cannot contain spaces, newlines or special characters.');
        this.name = name;
        return OK;
      }
      case 'SETINFO': {
        if (args.length !== 3) return wrongArity();
        const attribute = args[1]!.toString('latin1');
        const value = args[2]!.toString('utf8');
        const which = attribute.toUpperCase();
        if (which !== 'LIB-NAME' && which !== 'LIB-VER') return error('ERR', `Unrecognized option '${attribute}'`);
        if (!validName(value)) return error('ERR', `${which.toLowerCase()} cannot contain spaces, newlines or special characters.`);
        if (which === 'LIB-NAME') this.libName = value;
        else this.libVersion = value;
        return OK;
      }
      case 'INFO':
        return args.length === 1 ? verbatim(`${this.describe()}\n`) : wrongArity();
      case 'LIST': {
        // CLIENT LIST [TYPE normal] [ID id ...]
        let clients = [...CLIENTS];
        for (let i = 1; i < args.length; i++) {
          const option = args[i]!.toString('latin1').toUpperCase();
          if (option === 'TYPE' && i + 1 < args.length) {
            const type = args[++i]!.toString('latin1').toLowerCase();
            if (!['normal', 'master', 'replica', 'pubsub'].includes(type)) {
              return error('ERR', `Unknown client type '${args[i]!.toString('utf8')}'`);
            }
            if (type !== 'normal') clients = [];
          } else if (option === 'ID' && i + 1 < args.length) {
            const ids = args.slice(i + 1).map(parseSmallInteger);
            if (ids.some((id) => id === null || id <= 0)) return error('ERR', 'Invalid client ID');
            clients = clients.filter((client) => ids.includes(client.id));
            break;
          } else {
            return error('ERR', 'syntax error');
          }
        }
        return verbatim(clients.map((client) => `${client.describe()}\n`).join(''));
      }
      case 'HELP':
        return array(['CLIENT ID', 'CLIENT GETNAME', 'CLIENT SETNAME name', 'CLIENT SETINFO LIB-NAME|LIB-VER value',
          'CLIENT INFO', 'CLIENT LIST [TYPE normal] [ID id ...]'].map((line) => bulk(line)));
      default:
        return error('ERR', `unknown subcommand '${args[0]!.toString('utf8')}'. Try CLIENT HELP.`);
    }
  }

  /** One line of CLIENT LIST: the fields of Redis's that mean something here. */
  private describe(): string {
    const now = Date.now();
    const fields: Array<[string, string | number]> = [
      ['id', this.id],
      ['addr', this.peer.addr ?? '?'],
      ['laddr', this.peer.laddr ?? '?'],
      ['fd', -1], // the socket is Node's: no descriptor number to show
      ['name', this.name],
      ['age', Math.floor((now - this.createdAt) / 1000)],
      ['idle', Math.floor((now - this.lastCommandAt) / 1000)],
      ['flags', this.queue !== null ? 'x' : 'N'],
      ['db', 0],
      ['sub', 0],
      ['psub', 0],
      ['ssub', 0],
      ['multi', this.queue?.length ?? -1],
      ['watch', this.watched.size],
      ['cmd', this.lastCommand()],
      ['user', 'default'],
      ['lib-name', this.libName],
      ['lib-ver', this.libVersion],
      ['resp', this.protocol],
    ];
    return fields.map(([field, value]) => `${field}=${value}`).join(' ');
  }
}

/**
 * The connection command `name` is, upper case, or null. Asked for every
 * request: the names are 4 to 7 letters, so most requests (GET, SET, INCR...)
 * are told apart by their length and first letter before any string is made.
 */
function connectionCommand(name: Buffer): string | null {
  if (name.length < 4 || name.length > 7) return null;
  const first = name[0]! | 0x20; // lower case
  // a(uth) c(lient) d(iscard) e(xec) h(ello) m(ulti) s(elect) u(nwatch) w(atch)
  if (first !== 0x61 && first !== 0x63 && first !== 0x64 && first !== 0x65 && first !== 0x68 &&
    first !== 0x6d && first !== 0x73 && first !== 0x75 && first !== 0x77) return null;
  const upper = name.toString('latin1').toUpperCase();
  return upper in CONNECTION_COMMANDS ? upper : null;
}

function arityError(name: string, args: Buffer[]): Reply | null {
  const spec = CONNECTION_COMMANDS[name]!;
  const count = args.length - 1;
  if (count >= spec.min && count <= spec.max) return null;
  return error('ERR', `wrong number of arguments for '${name.toLowerCase()}' command`);
}

/** AUTH [user] password: there are no passwords, so user `default` is let in with any. */
function auth(args: Buffer[]): Reply {
  if (args.length === 1) {
    return error('ERR', 'AUTH <password> called without any password configured for the default user. ' +
      'Are you sure your configuration is correct?');
  }
  if (args[0]!.toString('utf8') !== 'default') return error('WRONGPASS', 'invalid username-password pair or user is disabled.');
  return OK;
}

function select(index: Buffer): Reply {
  const number = parseSmallInteger(index);
  if (number === null) return error('ERR', 'value is not an integer or out of range');
  return number === 0 ? OK : error('ERR', 'DB index is out of range');
}

/** Redis's rule for client names: printable ASCII, no spaces. */
function validName(name: string): boolean {
  return /^[!-~]*$/.test(name);
}

function parseSmallInteger(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  return /^-?\d{1,15}$/.test(text) ? Number(text) : null;
}


