import { StoreError, type Store } from '../store/store.ts';
import {
  ErrorCode, OK, array, bulk, error, integer, map, simple, verbatim, type Reply,
} from '../protocol/reply.ts';
import { burnCpu } from './burn-cpu.ts';
import { globMatch } from './glob.ts';
import { scanPage } from './scan.ts';
import { CONNECTION_HELP } from '../server/client-state.ts';
import { EXPIRY_COMMANDS, SET_OPTIONS_USAGE, setCommand } from './expiry-commands.ts';
import { LIST_COMMANDS } from './list-commands.ts';
import { INT64_MAX, INT64_MIN, NOT_AN_INTEGER, SYNTAX_ERROR, isWrongType, parseInt64, readString, spells } from './parse.ts';
import { ExpiringStore } from './expiry.ts';
import { addToSection, infoText, type InfoSection } from './info.ts';
import type { Lists } from '../store/lists.ts';
import { TYPE_LIST, TYPE_NONE, TYPE_STRING } from '../store/store.ts';

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
  /** Lines for INFO, from the server (its step, uptime, connections...): all under `# Server`. */
  serverInfo(): Record<string, string | number>;
  /** INFO by Redis's sections (step 06); when given, INFO shows these instead of serverInfo(). */
  infoSections?: () => InfoSection[];
  /** Stops the server gracefully, where the step supports it (SHUTDOWN). */
  shutdown?: () => void;
  /** Starts a rewrite of the logs, where the step supports it (BGREWRITEAOF): Redis's reply (a status, or its error when one runs). */
  rewriteLogs?: () => Reply;
  /** Bytes `key` and its value take in the store, or undefined when absent (MEMORY USAGE; step 06). */
  memoryUsage?: (key: Buffer) => number | undefined;
  /** The step's own settings for CONFIG GET, by Redis's names (`maxmemory`, `appendonly`...), over the defaults. */
  config?: () => Record<string, string>;
  /** The lists' elements (steps 01 and 06, on the event loop); without it list commands answer an error. */
  lists?: Lists;
  /** BLPOP may block: a connection on the event loop, outside MULTI. Otherwise it times out at once. */
  canBlock?: boolean;
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
  /**
   * Redis's own error replies (`ERR wrong number of arguments for 'mget'
   * command`), for the commands taken from Redis that clients call; without it,
   * the course's (`INVALID_COMMAND wrong number of arguments for 'GET' (usage:
   * GET key)`), which the seed's commands and the exercises' keep.
   */
  redisErrors?: true;
  summary: string;
  run(args: Buffer[], context: CommandContext): Reply;
}

// Redis's error replies, word for word: clients and their tests match on them.
const NOT_A_FLOAT = error('ERR', 'value is not a valid float');
const OVERFLOW = error('ERR', 'increment or decrement would overflow');

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
      const value = readString(store, key!);
      return isWrongType(value) ? value : bulk(value ?? null);
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
      // Strings only: a list's elements are not in the store's records.
      return array(store.entries()
        .filter(([key, value]) => value.length > 0 || store.typeOf?.(key) !== TYPE_LIST)
        .flatMap(([key, value]) => [bulk(key), bulk(value)]));
    },
  },
  INCR: {
    usage: 'INCR key', minArgs: 1, maxArgs: 1, writes: true,
    summary: 'add one to an integer value (an absent key counts as 0)',
    run([key], context) {
      const reply = incrementBy(key!, 1n, context);
      // The seed's INCR keeps the course's code for a value that is not a number.
      return reply === NOT_AN_INTEGER ? error(ErrorCode.INVALID_VALUE, 'value is not an integer or out of range') : reply;
    },
  },
  INCRBY: {
    usage: 'INCRBY key increment', minArgs: 2, maxArgs: 2, writes: true, redisErrors: true,
    summary: 'add a 64-bit integer to an integer value (an absent key counts as 0)',
    run([key, by], context) {
      const increment = parseInt64(by!);
      return increment === null ? NOT_AN_INTEGER : incrementBy(key!, increment, context);
    },
  },
  DECR: {
    usage: 'DECR key', minArgs: 1, maxArgs: 1, writes: true, redisErrors: true,
    summary: 'subtract one from an integer value',
    run([key], context) {
      return incrementBy(key!, -1n, context);
    },
  },
  DECRBY: {
    usage: 'DECRBY key decrement', minArgs: 2, maxArgs: 2, writes: true, redisErrors: true,
    summary: 'subtract a 64-bit integer from an integer value',
    run([key, by], context) {
      const decrement = parseInt64(by!);
      if (decrement === null) return NOT_AN_INTEGER;
      // -(-2^63) does not fit in 64 bits: Redis refuses it with these words.
      if (decrement === INT64_MIN) return error('ERR', 'decrement would overflow');
      return incrementBy(key!, -decrement, context);
    },
  },
  INCRBYFLOAT: {
    usage: 'INCRBYFLOAT key increment', minArgs: 2, maxArgs: 2, writes: true, redisErrors: true,
    summary: 'add a decimal number (a JS double here; Redis uses long double)',
    run([key, by], { store, betweenCheckAndAct }) {
      const increment = parseFloatValue(by!);
      if (increment === null) return NOT_A_FLOAT;
      const current = readString(store, key!);
      if (isWrongType(current)) return current;
      const number = current === undefined ? 0 : parseFloatValue(current);
      if (number === null) return NOT_A_FLOAT;
      const sum = number + increment;
      if (!Number.isFinite(sum)) return error('ERR', 'increment would produce NaN or Infinity');
      betweenCheckAndAct();
      const text = formatFloat(sum);
      store.set(key!, Buffer.from(text));
      return bulk(text); // a bulk string, in RESP3 too (as Redis)
    },
  },
  MGET: {
    usage: 'MGET key [key ...]', minArgs: 1, maxArgs: Infinity, writes: false, redisErrors: true,
    summary: 'the values of several keys, (nil) for each absent one',
    run(keys, { store }) {
      // Redis: a key that is not a string reads as nil here, not WRONGTYPE.
      return array(keys.map((key) => {
        const value = readString(store, key);
        return bulk(isWrongType(value) ? null : value ?? null);
      }));
    },
  },
  MSET: {
    usage: 'MSET key value [key value ...]', minArgs: 2, maxArgs: Infinity, writes: true, redisErrors: true,
    summary: 'store several keys at once',
    run(args, { store }) {
      if (args.length % 2 !== 0) return error('ERR', "wrong number of arguments for 'mset' command");
      for (let i = 0; i < args.length; i += 2) store.set(args[i]!, args[i + 1]!);
      return OK;
    },
  },
  EXISTS: {
    usage: 'EXISTS key [key ...]', minArgs: 1, maxArgs: Infinity, writes: false, redisErrors: true,
    summary: 'how many of the keys exist (a key named twice counts twice)',
    run(keys, { store }) {
      return integer(keys.filter((key) => store.get(key) !== undefined).length);
    },
  },
  TYPE: {
    usage: 'TYPE key', minArgs: 1, maxArgs: 1, writes: false, redisErrors: true,
    summary: 'string, list, or none when the key is absent',
    run([key], { store }) {
      return simple(typeName(store, key!));
    },
  },
  KEYS: {
    usage: 'KEYS pattern', minArgs: 1, maxArgs: 1, writes: false, redisErrors: true,
    summary: 'every key matching a glob pattern (* ? [a-z] [^x] \\x), all at once',
    run([pattern], { store }) {
      return array(store.entries().filter(([key]) => globMatch(pattern!, key)).map(([key]) => bulk(key)));
    },
  },
  SCAN: {
    usage: 'SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]', minArgs: 1, maxArgs: 7, writes: false, redisErrors: true,
    summary: 'a page of keys and the cursor of the next page (0: done)',
    run([cursorText, ...options], { store }) {
      const cursor = parseCursor(cursorText!);
      if (cursor === null) return error('ERR', 'invalid cursor');
      let pattern: Buffer | null = null;
      let count = 10;
      let type: string | null = null;
      for (let i = 0; i < options.length; i += 2) {
        const option = options[i]!.toString('latin1').toUpperCase();
        const value = options[i + 1];
        if (value === undefined) return SYNTAX_ERROR;
        if (option === 'MATCH') pattern = value;
        else if (option === 'COUNT') {
          const parsed = parseInt64(value);
          if (parsed === null) return NOT_AN_INTEGER;
          if (parsed < 1n) return SYNTAX_ERROR;
          count = Number(parsed > 1_000_000n ? 1_000_000n : parsed);
        } else if (option === 'TYPE') type = value.toString('latin1').toLowerCase();
        else return SYNTAX_ERROR;
      }
      const page = scanPage(store, cursor, count);
      const keys = page.keys.filter((key) => (pattern === null || globMatch(pattern, key)) && (type === null || type === typeName(store, key)));
      return array([bulk(String(page.next)), array(keys.map((key) => bulk(key)))]);
    },
  },
  FLUSHDB: {
    usage: 'FLUSHDB [ASYNC|SYNC]', minArgs: 0, maxArgs: 1, writes: true, redisErrors: true,
    summary: 'remove every key',
    run([mode], { store, lists }) {
      const option = mode?.toString('latin1').toUpperCase();
      if (option !== undefined && option !== 'ASYNC' && option !== 'SYNC') return SYNTAX_ERROR;
      // One delete per key, through the store the commands see: each one is
      // logged (steps 04-06) and bumps its key's version (WATCH), as Redis's
      // FLUSHDB touches every watched key that existed.
      for (const [key] of store.entries()) {
        store.delete(key);
        lists?.forget(key);
      }
      return OK;
    },
  },
  ECHO: {
    usage: 'ECHO message', minArgs: 1, maxArgs: 1, writes: false, redisErrors: true,
    summary: 'the message back',
    run([message]) {
      return bulk(message!);
    },
  },
  SET: {
    usage: SET_OPTIONS_USAGE, minArgs: 2, maxArgs: 7, writes: true,
    summary: 'store a value; NX: only if absent, XX: only if present; GET: reply the old one; EX/PX/EXAT/PXAT: expire; KEEPTTL',
    run: setCommand,
  },
  DEL: {
    usage: 'DEL key [key ...]', minArgs: 1, maxArgs: Infinity, writes: true,
    summary: 'remove keys; replies how many existed',
    run(keys, { store, lists }) {
      return integer(keys.filter((key) => {
        lists?.forget(key);
        return store.delete(key);
      }).length);
    },
  },
  ...EXPIRY_COMMANDS,
  ...LIST_COMMANDS,
  PING: {
    usage: 'PING [message]', minArgs: 0, maxArgs: 1, writes: false,
    summary: 'PONG, or the message back',
    run([message]) {
      return message === undefined ? simple('PONG') : bulk(message);
    },
  },
  DBSIZE: {
    usage: 'DBSIZE', minArgs: 0, maxArgs: 0, writes: false, redisErrors: true,
    summary: 'how many keys are stored',
    run(_args, { store }) {
      return integer(store.size());
    },
  },
  INFO: {
    usage: 'INFO [section ...]', minArgs: 0, maxArgs: Infinity, writes: false,
    summary: 'figures about the server, by section (server, clients, memory, persistence, stats, replication, keyspace...)',
    run(args, { store, serverInfo, infoSections, lists }) {
      const sections: InfoSection[] = infoSections?.() ?? [{ name: 'Server', fields: serverInfo() }];
      const keys = store.size();
      const expires = store.expiringKeys?.() ?? 0;
      // `loading:0` tells client libraries (ioredis waits for it) that we are ready.
      addToSection(sections, 'Persistence', { loading: 0 });
      addToSection(sections, 'Stats', { keys, ...(store instanceof ExpiringStore ? { expired_keys: store.expiredKeys } : {}) });
      if (lists !== undefined) {
        addToSection(sections, 'Clients', { blocked_clients: lists.blockedClients() });
        addToSection(sections, 'Stats', { list_elements: lists.elementCount() });
      }
      // Redis's keyspace line, which tools read; avg_ttl is active expiry's sampled estimate, in ms.
      const averageTtl = store instanceof ExpiringStore && expires > 0 ? Math.round(store.averageTtl) : 0;
      sections.push({ name: 'Keyspace', fields: {}, lines: keys > 0 ? [`db0:keys=${keys},expires=${expires},avg_ttl=${averageTtl}`] : [] });
      return verbatim(infoText(sections, args));
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
      return rewriteLogs(); // in Redis's words
    },
  },
  HELP: {
    usage: 'HELP', minArgs: 0, maxArgs: 0, writes: false,
    summary: 'this list',
    run() {
      const lines = [...Object.values(COMMANDS).map((spec) => [spec.usage, spec.summary]), ...CONNECTION_HELP]
        .map(([usage, summary]) => `${usage!.padEnd(24)} ${summary}`);
      lines.push(`${'QUIT'.padEnd(24)} close the connection`);
      return array(lines.map((line) => bulk(line)));
    },
  },
  // redis-cli and redis-benchmark send these when they connect: COMMAND
  // DOCS (redis-cli 7's hints) and COMMAND itself get an empty list, enough
  // for them to carry on; COMMAND COUNT the number of commands, as Redis.
  COMMAND: {
    usage: 'COMMAND [COUNT | DOCS ...]', minArgs: 0, maxArgs: Infinity, writes: false,
    summary: 'for redis-cli: COUNT, or an empty list',
    run([sub]) {
      if (sub !== undefined && sub.toString('latin1').toUpperCase() === 'COUNT') {
        return integer(Object.keys(COMMANDS).length + CONNECTION_HELP.length + 1); // + QUIT
      }
      return array([]);
    },
  },
  CONFIG: {
    usage: 'CONFIG GET parameter [parameter ...]', minArgs: 1, maxArgs: Infinity, writes: false, redisErrors: true,
    summary: 'the settings clients ask for, by Redis\'s names (glob patterns too, as Redis 7)',
    run([sub, ...parameters], { config }) {
      const name = sub!.toString('latin1').toUpperCase();
      // Redis's replies: CONFIG GET with no parameter is an arity error of 'config|get'.
      if (name === 'GET' && parameters.length === 0) return error('ERR', "wrong number of arguments for 'config|get' command");
      if (name !== 'GET') return error('ERR', `unknown subcommand '${sub!.toString('latin1')}'. Try CONFIG HELP.`);
      const settings = { ...REDIS_CONFIG, ...config?.() };
      const found = new Map<string, string>();
      for (const parameter of parameters) {
        const pattern = Buffer.from(parameter.toString('latin1').toLowerCase(), 'latin1');
        for (const [name, value] of Object.entries(settings)) {
          if (globMatch(pattern, Buffer.from(name, 'latin1'))) found.set(name, value);
        }
      }
      return map([...found].map(([name, value]) => [name, bulk(value)])); // RESP3: a map, as Redis 7
    },
  },
  STRLEN: {
    usage: 'STRLEN key', minArgs: 1, maxArgs: 1, writes: false, redisErrors: true,
    summary: 'the length of the value in bytes, 0 when the key is absent',
    run([key], { store }) {
      const value = readString(store, key!);
      return isWrongType(value) ? value : integer(value?.length ?? 0);
    },
  },
  MEMORY: {
    usage: 'MEMORY USAGE key [SAMPLES count]', minArgs: 2, maxArgs: 4, writes: false, redisErrors: true,
    summary: 'bytes a key and its value take in the store (where the step supports it)',
    run([sub, key, ...rest], { memoryUsage }) {
      const name = sub!.toString('latin1').toUpperCase();
      if (name !== 'USAGE') return error('ERR', `unknown subcommand '${sub!.toString('latin1')}'. Try MEMORY HELP.`);
      if (rest.length === 1 || (rest.length === 2 && rest[0]!.toString('latin1').toUpperCase() !== 'SAMPLES')) return SYNTAX_ERROR;
      if (memoryUsage === undefined) return error(ErrorCode.INVALID_COMMAND, 'MEMORY USAGE is not supported by this step (step 06 has it)');
      const bytes = memoryUsage(key!);
      return bytes === undefined ? bulk(null) : integer(bytes);
    },
  },
};

// What clients ask for (redis-benchmark: save and appendonly; it warns without
// answers), as a Redis 7 started with no persistence and no limit would say.
// A step overrides what it has (context.config; step 06: maxmemory, appendonly...).
const REDIS_CONFIG: Record<string, string> = {
  save: '', appendonly: 'no', maxmemory: '0', 'maxmemory-policy': 'noeviction', databases: '1',
};

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
  const invalid = validateCommand(args, spec);
  if (invalid !== null || spec === undefined) return invalid!;
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

/**
 * The error reply for a request that cannot run (an unknown command, a wrong
 * number of arguments), or null when it can. MULTI uses it to refuse what it
 * cannot queue.
 */
export function validateCommand(args: Buffer[], spec = lookup(args[0]!)): Reply | null {
  if (spec === undefined) {
    return error(ErrorCode.INVALID_COMMAND, `unknown command '${showKey(args[0]!)}' (HELP lists the commands)`);
  }
  const argCount = args.length - 1;
  if (argCount >= spec.minArgs && argCount <= spec.maxArgs) return null;
  if (spec.redisErrors) return error('ERR', `wrong number of arguments for '${spec.name.toLowerCase()}' command`);
  const name = args[0]!.toString('latin1').toUpperCase();
  return error(ErrorCode.INVALID_COMMAND, `wrong number of arguments for '${name}' (usage: ${spec.usage})`);
}

// Looked up on every request, and without making a string of the name: the
// specs by the length of their name and its first letter (either case),
// then the name compared letter by letter. (A Map from the name as text made
// a string per request, and another upper-cased when sent in lower case:
// toString('latin1') took 3 % of step 06's event loop under redis-benchmark -P 16.)
const LONGEST_NAME = 16;
const BY_SHAPE: Array<CommandSpec[] | undefined> = [];
for (const [name, spec] of Object.entries(COMMANDS)) {
  if (name.length > LONGEST_NAME) throw new Error(`command name ${name} is longer than ${LONGEST_NAME}`);
  (BY_SHAPE[shapeOf(name.length, name.charCodeAt(0))] ??= []).push({ name, ...spec });
}

/** A name's length and first letter, folded to lower case, as one index. */
function shapeOf(length: number, first: number): number {
  return length * 256 + (first >= 0x41 && first <= 0x5a ? first | 0x20 : first);
}

function lookup(name: Buffer): CommandSpec | undefined {
  if (name.length === 0 || name.length > LONGEST_NAME) return undefined;
  const candidates = BY_SHAPE[shapeOf(name.length, name[0]!)];
  if (candidates === undefined) return undefined;
  for (const spec of candidates) if (spells(name, spec.name)) return spec; // (a shape's names all have its length)
  return undefined;
}


/**
 * INCR, INCRBY, DECR, DECRBY: read, add, write, in 64-bit signed arithmetic
 * as Redis (BigInt: a JS number is exact only to 2^53).
 */
function incrementBy(key: Buffer, increment: bigint, { store, betweenCheckAndAct }: CommandContext): Reply {
  const current = readString(store, key);
  if (isWrongType(current)) return current;
  // The usual case in plain numbers (exact below 2^53); BigInt only near the limits.
  const small = current === undefined ? 0 : parseSmallInt(current);
  if (small !== null && increment >= -SMALL_STEP && increment <= SMALL_STEP) {
    const sum = small + Number(increment);
    betweenCheckAndAct(); // the read is done, the write is not: a lost update waits here
    store.set(key, Buffer.from(String(sum)));
    return integer(sum);
  }
  const number = current === undefined ? 0n : parseInt64(current);
  if (number === null) return NOT_AN_INTEGER;
  const sum = number + increment;
  if (sum < INT64_MIN || sum > INT64_MAX) return OVERFLOW;
  betweenCheckAndAct();
  store.set(key, Buffer.from(String(sum)));
  return integer(sum);
}

// |value| < 10^15 and |increment| <= 10^15: the sum stays exact in a double.
const SMALL_STEP = 10n ** 15n;

/** An integer of at most 15 digits, as parseInt64 would read it; null otherwise (also for longer ones). */
function parseSmallInt(bytes: Buffer): number | null {
  if (bytes.length === 0 || bytes.length > 16) return null;
  const text = bytes.toString('latin1');
  return text === '0' || /^-?[1-9]\d{0,14}$/.test(text) ? Number(text) : null;
}


/** A decimal number as INCRBYFLOAT takes one (no spaces, no NaN, no hex); null otherwise. */
function parseFloatValue(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) && !/^[-+]?inf(inity)?$/i.test(text)) return null;
  const value = /inf/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
  return Number.isNaN(value) ? null : value;
}

/** How INCRBYFLOAT writes its result: no exponent, no trailing zeros (Redis's %.17Lg, in a double). */
function formatFloat(value: number): string {
  const text = String(value);
  if (!/e/.test(text)) return text;
  // 1e+21 and beyond, or tiny numbers: spell the digits out, as Redis does.
  return Math.abs(value) >= 1 ? BigInt(Math.round(value)).toString() : value.toFixed(20).replace(/0+$/, '');
}

/** TYPE's answer: string, list or none. */
function typeName(store: Store, key: Buffer): string {
  const type = store.typeOf?.(key) ?? (store.get(key) === undefined ? TYPE_NONE : TYPE_STRING);
  return type === TYPE_LIST ? 'list' : type === TYPE_NONE ? 'none' : 'string';
}

/** SCAN's cursor: an unsigned decimal (0 starts a scan); null otherwise. */
function parseCursor(bytes: Buffer): number | null {
  const text = bytes.toString('latin1');
  if (!/^\d{1,20}$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
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
