import { StoreError, type Store } from '../store/store.ts';
import {
  ErrorCode, NIL, OK, array, bulk, error, integer, simple, type Reply,
} from '../protocol/reply.ts';
import { burnCpu } from './burn-cpu.ts';

// The command table: what each command means, written once against the Store
// interface. Every step runs these same functions; what changes from step to
// step is the store under them and what guards them (nothing, a mutex, a
// read-write lock).
//
// Several commands are a check followed by an act (POST: "is the key absent?"
// then "store it"). Between the two, the command calls
// `context.betweenCheckAndAct()`. In step 01 that does nothing. In step 02,
// where threads share the store without a lock, it waits a little on purpose:
// a magnifying glass on the race window that is always there.

export interface CommandContext {
  store: Store;
  /** Called between a check and the act that relies on it (see above). */
  betweenCheckAndAct(): void;
  /** CPU time every command burns, in ms: a simulated heavy command (--work-ms). */
  workMs: number;
  /** Lines for INFO, from the server (its step, uptime, connections...). */
  serverInfo(): Record<string, string | number>;
  /** Stops the server gracefully, where the step supports it (SHUTDOWN). */
  shutdown?: () => void;
  /** Starts a rewrite of the logs, where the step supports it (BGREWRITEAOF); says what it did. */
  rewriteLogs?: () => string;
}

export interface CommandSpec {
  /** Its name, upper case (filled in from the table's keys). */
  name: string;
  /** How it is written, for help and arity errors. */
  usage: string;
  /** Smallest and largest number of arguments after the name. */
  minArgs: number;
  maxArgs: number;
  /** Whether it changes the store: a read-write lock takes the write side. */
  writes: boolean;
  summary: string;
  run(args: Buffer[], context: CommandContext): Reply;
}

const notFound = (key: Buffer) => error(ErrorCode.NOT_FOUND, `key '${showKey(key)}' does not exist`);

export const COMMANDS: Record<string, Omit<CommandSpec, 'name'>> = {
  POST: {
    usage: 'POST key value', minArgs: 2, maxArgs: 2, writes: true,
    summary: 'create a key; fails with ALREADY_EXISTS if it exists',
    run([key, value], { store, betweenCheckAndAct }) {
      if (store.get(key!) !== undefined) {
        return error(ErrorCode.ALREADY_EXISTS, `key '${showKey(key!)}' already exists`);
      }
      betweenCheckAndAct();
      store.set(key!, value!);
      return OK;
    },
  },
  PUT: {
    usage: 'PUT key value', minArgs: 2, maxArgs: 2, writes: true,
    summary: 'update a key; fails with NOT_FOUND if it is absent',
    run([key, value], { store, betweenCheckAndAct }) {
      if (store.get(key!) === undefined) return notFound(key!);
      betweenCheckAndAct();
      store.set(key!, value!);
      return OK;
    },
  },
  GET: {
    usage: 'GET key', minArgs: 1, maxArgs: 1, writes: false,
    summary: 'read a key; (nil) if it is absent',
    run([key], { store }) {
      return bulk(store.get(key!) ?? null);
    },
  },
  DELETE: {
    usage: 'DELETE key', minArgs: 1, maxArgs: 1, writes: true,
    summary: 'remove a key; fails with NOT_FOUND if it is absent',
    run([key], { store, betweenCheckAndAct }) {
      if (store.get(key!) === undefined) return notFound(key!);
      betweenCheckAndAct();
      store.delete(key!);
      return OK;
    },
  },
  DUMP: {
    usage: 'DUMP', minArgs: 0, maxArgs: 0, writes: false,
    summary: 'every entry: key, value, key, value...',
    run(_args, { store }) {
      return array(store.entries().flatMap(([key, value]) => [bulk(key), bulk(value)]));
    },
  },
  INCR: {
    usage: 'INCR key', minArgs: 1, maxArgs: 1, writes: true,
    summary: 'add one to an integer value (an absent key counts as 0)',
    run([key], { store, betweenCheckAndAct }) {
      const current = store.get(key!);
      const number = current === undefined ? 0 : parseInteger(current);
      if (number === null) return error(ErrorCode.INVALID_VALUE, 'value is not an integer or out of range');
      betweenCheckAndAct(); // the read is done, the write is not: a lost update waits here
      store.set(key!, Buffer.from(String(number + 1)));
      return integer(number + 1);
    },
  },
  SET: {
    usage: 'SET key value [NX|XX]', minArgs: 2, maxArgs: 3, writes: true,
    summary: 'store a value; NX: only if absent, XX: only if present',
    run([key, value, option], { store, betweenCheckAndAct }) {
      const mode = option?.toString('latin1').toUpperCase();
      if (mode !== undefined && mode !== 'NX' && mode !== 'XX') {
        return error(ErrorCode.INVALID_COMMAND, `syntax error: unknown SET option '${mode}' (use NX or XX)`);
      }
      if (mode !== undefined) {
        const exists = store.get(key!) !== undefined;
        if ((mode === 'NX' && exists) || (mode === 'XX' && !exists)) return NIL;
        betweenCheckAndAct();
      }
      store.set(key!, value!);
      return OK;
    },
  },
  DEL: {
    usage: 'DEL key [key ...]', minArgs: 1, maxArgs: Infinity, writes: true,
    summary: 'remove keys; replies how many existed',
    run(keys, { store }) {
      return integer(keys.filter((key) => store.delete(key)).length);
    },
  },
  PING: {
    usage: 'PING [message]', minArgs: 0, maxArgs: 1, writes: false,
    summary: 'PONG, or the message back',
    run([message]) {
      return message === undefined ? simple('PONG') : bulk(message);
    },
  },
  DBSIZE: {
    usage: 'DBSIZE', minArgs: 0, maxArgs: 0, writes: false,
    summary: 'how many keys are stored',
    run(_args, { store }) {
      return integer(store.size());
    },
  },
  INFO: {
    usage: 'INFO [section]', minArgs: 0, maxArgs: 1, writes: false,
    summary: 'figures about the server',
    run(_args, { store, serverInfo }) {
      // `loading:0` tells client libraries (ioredis waits for it) that we are ready.
      const fields = { ...serverInfo(), loading: 0, keys: store.size() };
      const lines = Object.entries(fields).map(([name, value]) => `${name}:${value}`);
      return bulk(`# Server\r\n${lines.join('\r\n')}\r\n`);
    },
  },
  WORK: {
    usage: 'WORK milliseconds', minArgs: 1, maxArgs: 1, writes: false,
    summary: 'burn CPU for that long (at most 10000 ms): one heavy command',
    run([ms]) {
      const duration = parseInteger(ms!);
      if (duration === null || duration < 0 || duration > 10_000) {
        return error(ErrorCode.INVALID_VALUE, 'WORK takes a number of milliseconds from 0 to 10000');
      }
      burnCpu(duration);
      return OK;
    },
  },
  SHUTDOWN: {
    usage: 'SHUTDOWN', minArgs: 0, maxArgs: 2, writes: false,
    summary: 'stop the server gracefully (where the step supports it)',
    run(_args, { shutdown }) {
      if (shutdown === undefined) {
        return error(ErrorCode.INVALID_COMMAND, 'SHUTDOWN is not supported by this step (stop it with Ctrl+C)');
      }
      shutdown();
      return OK;
    },
  },
  BGREWRITEAOF: {
    usage: 'BGREWRITEAOF', minArgs: 0, maxArgs: 0, writes: false,
    summary: 'rewrite the logs to the live data, in the background (where the step supports it)',
    run(_args, { rewriteLogs }) {
      if (rewriteLogs === undefined) return error(ErrorCode.INVALID_COMMAND, 'BGREWRITEAOF is not supported by this step (step 06 has it)');
      return simple(rewriteLogs()); // in Redis's words
    },
  },
  HELP: {
    usage: 'HELP', minArgs: 0, maxArgs: 0, writes: false,
    summary: 'this list',
    run() {
      const lines = Object.values(COMMANDS).map((spec) => `${spec.usage.padEnd(24)} ${spec.summary}`);
      lines.push(`${'QUIT'.padEnd(24)} close the connection`);
      return array(lines.map((line) => bulk(line)));
    },
  },
  // redis-cli and redis-benchmark send these when they connect; an empty
  // answer is enough for them to carry on.
  COMMAND: {
    usage: 'COMMAND [...]', minArgs: 0, maxArgs: Infinity, writes: false,
    summary: 'for redis-cli: an empty list',
    run: () => array([]),
  },
  CONFIG: {
    usage: 'CONFIG GET parameter', minArgs: 2, maxArgs: 2, writes: false,
    summary: 'for redis-benchmark: persistence settings (none of Redis\'s)',
    run([sub, parameter]) {
      if (sub!.toString('latin1').toUpperCase() !== 'GET') {
        return error(ErrorCode.INVALID_COMMAND, 'only CONFIG GET is supported');
      }
      const value = REDIS_CONFIG[parameter!.toString('latin1').toLowerCase()];
      return array(value === undefined ? [] : [bulk(parameter!), bulk(value)]);
    },
  },
};

// What redis-benchmark asks for before it starts (it warns without answers).
const REDIS_CONFIG: Record<string, string> = { save: '', appendonly: 'no' };

/** Whether a request changes the store (so a read-write lock takes the write side). */
export function isWrite(args: Buffer[]): boolean {
  return lookup(args[0]!)?.writes ?? false;
}

/** The table's entry for a request (its name, whether it writes...); undefined for an unknown command. */
export function commandSpec(args: Buffer[]): CommandSpec | undefined {
  return lookup(args[0]!);
}

/**
 * Runs one request against the store and returns its reply. Bad requests get
 * an error reply whose first word is a code; nothing here throws to the
 * caller. A caller that has looked the command up already (commandSpec) may
 * pass its spec, saving a second lookup.
 */
export function executeCommand(args: Buffer[], context: CommandContext, spec = lookup(args[0]!)): Reply {
  if (spec === undefined) {
    return error(ErrorCode.INVALID_COMMAND, `unknown command '${showKey(args[0]!)}' (HELP lists the commands)`);
  }
  const argCount = args.length - 1;
  if (argCount < spec.minArgs || argCount > spec.maxArgs) {
    const name = args[0]!.toString('latin1').toUpperCase();
    return error(ErrorCode.INVALID_COMMAND, `wrong number of arguments for '${name}' (usage: ${spec.usage})`);
  }
  if (context.workMs > 0) burnCpu(context.workMs);
  try {
    return spec.run(args.slice(1), context);
  } catch (caught) {
    if (caught instanceof StoreError) return error(caught.code, caught.message);
    // Not the client's fault: a bug, or a table wrecked by a race (step 02).
    // Answer it and go on serving - a thread that died here could take a
    // lock holder or a sequence number with it. The stack goes to the log.
    console.error(`internal error in ${spec.name}: ${(caught as Error).stack ?? caught}`);
    return error(ErrorCode.INTERNAL_ERROR, `${spec.name} failed inside the server (${(caught as Error).message}); the server goes on`);
  }
}

// Looked up on every request: a Map, tried first with the name as sent
// (clients usually send upper case), then upper-cased.
const BY_NAME = new Map<string, CommandSpec>(
  Object.entries(COMMANDS).map(([name, spec]) => [name, { name, ...spec }]),
);

function lookup(name: Buffer): CommandSpec | undefined {
  if (name.length > 16) return undefined;
  const text = name.toString('latin1');
  return BY_NAME.get(text) ?? BY_NAME.get(text.toUpperCase());
}

/** A strict decimal integer, as Redis accepts for INCR; null otherwise. */
function parseInteger(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  if (!/^-?\d{1,15}$/.test(text)) return null;
  return Number(text);
}

/** A key as it appears in an error message: printable, and not too long. */
function showKey(key: Buffer): string {
  const text = key.toString('utf8').replace(/[\x00-\x1f\x7f]/g, '?');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
