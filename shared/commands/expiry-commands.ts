import { ErrorCode, NIL, OK, bulk, error, integer, type Reply } from '../protocol/reply.ts';
import type { CommandContext, CommandSpec } from './commands.ts';
import { NOT_AN_INTEGER, SYNTAX_ERROR, isWrongType, parseInt64, readString, spelledAs } from './parse.ts';

// Expiry's commands (issue 13), with Redis's replies and errors. The times
// are kept as absolute ms since 1970 (the record's expiresAt): EXPIRE 10 at
// 12:00:00 stores 12:00:10, and that is what the log keeps (PEXPIREAT), so a
// restart does not extend a key's life. How expired keys disappear:
// expiry.ts.

type Spec = Omit<CommandSpec, 'name'>;

/** Steps 02-05's fixed store has no room for a time: the commands say so. */
const NO_EXPIRY = error('ERR', "expiry needs a store with expiry times (steps 01 and 06); this step's fixed SharedStore has none");

// The latest time Redis accepts, in ms (its long long limit, divided down).
const MAX_MS = Number.MAX_SAFE_INTEGER;

const invalidExpireTime = (command: string) => error('ERR', `invalid expire time in '${command}' command`);

/**
 * An expire time as sent (seconds or ms, relative or absolute) turned into
 * absolute ms; a Reply when it is not a valid one.
 */
function absoluteMs(text: Buffer, unitMs: number, relative: boolean, command: string, now: number): number | Reply {
  const value = parseInt64(text);
  if (value === null) return NOT_AN_INTEGER;
  const ms = Number(value) * unitMs;
  const at = relative ? now + ms : ms;
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(at) || Math.abs(at) > MAX_MS) return invalidExpireTime(command);
  return at;
}

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: one body, two units, two references.
function expireCommand(name: string, unitMs: number, relative: boolean): Spec {
  const unit = unitMs === 1 ? 'milliseconds' : 'seconds';
  return {
    usage: `${name} key ${relative ? unit : `unix-time-${unit}`} [NX|XX|GT|LT ...]`, minArgs: 2, maxArgs: Infinity, writes: true, redisErrors: true,
    summary: relative ? `expire the key in that many ${unit}` : `expire the key at that Unix time (${unit})`,
    run([key, time, ...options], { store }) {
      if (store.setExpiresAt === undefined) return NO_EXPIRY;
      // As Redis 7: the options first (several may be given: XX GT), then the time.
      const flags = new Set<string>();
      for (const option of options) {
        const flag = option.toString('latin1').toUpperCase();
        if (!['NX', 'XX', 'GT', 'LT'].includes(flag)) return error('ERR', `Unsupported option ${option.toString('latin1')}`);
        flags.add(flag);
      }
      if (flags.has('NX') && flags.size > 1) return error('ERR', 'NX and XX, GT or LT options at the same time are not compatible');
      if (flags.has('GT') && flags.has('LT')) return error('ERR', 'GT and LT options at the same time are not compatible');
      const now = Date.now();
      const at = absoluteMs(time!, unitMs, relative, name.toLowerCase(), now);
      if (typeof at !== 'number') return at;
      const current = store.expiresAt!(key!);
      if (current === undefined) return integer(0);
      // Redis: no time counts as infinite for GT and LT.
      const currentOrInfinity = current === 0 ? Infinity : current;
      if ((flags.has('NX') && current !== 0) || (flags.has('XX') && current === 0)
        || (flags.has('GT') && !(at > currentOrInfinity)) || (flags.has('LT') && !(at < currentOrInfinity))) {
        return integer(0);
      }
      // A time already past deletes the key now, as Redis does (logged as DEL).
      if (at <= now) store.delete(key!);
      else store.setExpiresAt(key!, at);
      return integer(1);
    },
  };
}

// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 absent, -1 no time.
function ttlCommand(name: string, unitMs: number, absolute: boolean): Spec {
  return {
    usage: `${name} key`, minArgs: 1, maxArgs: 1, writes: false, redisErrors: true,
    summary: absolute ? `the Unix time (${unitMs === 1 ? 'ms' : 's'}) when the key expires; -1 never, -2 absent`
      : `${unitMs === 1 ? 'milliseconds' : 'seconds'} the key has left; -1 no expiry, -2 absent`,
    run([key], { store }) {
      if (store.expiresAt === undefined) return NO_EXPIRY;
      const at = store.expiresAt(key!);
      if (at === undefined) return integer(-2);
      if (at === 0) return integer(-1);
      if (absolute) return integer(Math.round(at / unitMs));
      const left = Math.max(0, at - Date.now());
      // Redis rounds TTL to the nearest second: (ttl + 500) / 1000.
      return integer(unitMs === 1 ? left : Math.floor((left + 500) / 1000));
    },
  };
}

export const EXPIRY_COMMANDS: Record<string, Spec> = {
  EXPIRE: expireCommand('EXPIRE', 1000, true),
  PEXPIRE: expireCommand('PEXPIRE', 1, true),
  EXPIREAT: expireCommand('EXPIREAT', 1000, false),
  PEXPIREAT: expireCommand('PEXPIREAT', 1, false),
  TTL: ttlCommand('TTL', 1000, false),
  PTTL: ttlCommand('PTTL', 1, false),
  EXPIRETIME: ttlCommand('EXPIRETIME', 1000, true),
  PEXPIRETIME: ttlCommand('PEXPIRETIME', 1, true),
  PERSIST: {
    usage: 'PERSIST key', minArgs: 1, maxArgs: 1, writes: true, redisErrors: true,
    summary: 'remove the key\'s expiry; 1 if it had one',
    run([key], { store }) {
      if (store.setExpiresAt === undefined) return NO_EXPIRY;
      const at = store.expiresAt!(key!);
      if (at === undefined || at === 0) return integer(0);
      store.setExpiresAt(key!, 0);
      return integer(1);
    },
  },
};

export const SET_OPTIONS_USAGE = 'SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]';

// Read with spelledAs(), no string per option: a replica gets every SET as
// `SET k v KEEPTTL`, and toUpperCase, a call into V8's runtime, was a
// visible part of a replica's CPU.
const SET_OPTIONS = ['NX', 'XX', 'GET', 'KEEPTTL', 'EX', 'PX', 'EXAT', 'PXAT'] as const;

/**
 * SET with Redis's options. The seed's errors stay for what the seed had
 * (an unknown option: INVALID_COMMAND); the options from Redis get Redis's.
 */
export function setCommand([key, value, ...options]: Buffer[], { store, betweenCheckAndAct }: CommandContext): Reply {
  let condition: 'NX' | 'XX' | null = null;
  let get = false;
  let keepTtl = false;
  let expiry: { unitMs: number; relative: boolean; time: Buffer } | null = null;
  for (let i = 0; i < options.length; i++) {
    const option = spelledAs(options[i]!, SET_OPTIONS);
    if (option === 'NX' || option === 'XX') {
      if (condition !== null && condition !== option) return SYNTAX_ERROR;
      condition = option;
    } else if (option === 'GET') get = true;
    else if (option === 'KEEPTTL') {
      if (expiry !== null) return SYNTAX_ERROR;
      keepTtl = true;
    } else if (option === 'EX' || option === 'PX' || option === 'EXAT' || option === 'PXAT') {
      const time = options[i + 1];
      if (time === undefined || expiry !== null || keepTtl) return SYNTAX_ERROR;
      expiry = { unitMs: option.startsWith('P') ? 1 : 1000, relative: !option.endsWith('AT'), time };
      i++;
    } else {
      const unknown = options[i]!.toString('latin1').toUpperCase();
      return error(ErrorCode.INVALID_COMMAND, `syntax error: unknown SET option '${unknown}' (use NX, XX, GET, EX, PX, EXAT, PXAT or KEEPTTL)`);
    }
  }
  if ((expiry !== null || keepTtl) && store.setExpiresAt === undefined) return NO_EXPIRY;
  let at = 0;
  if (expiry !== null) {
    const parsed = absoluteMs(expiry.time, expiry.unitMs, expiry.relative, 'set', Date.now());
    if (typeof parsed !== 'number') return parsed;
    // Redis refuses a time that is not positive (EX 0, PX -1, EXAT 0).
    if (parseInt64(expiry.time)! <= 0n) return error('ERR', "invalid expire time in 'set' command");
    at = parsed;
  }
  const old = get || condition !== null ? readString(store, key!) : undefined;
  if (isWrongType(old)) {
    if (get) return old;
  }
  if (condition !== null) {
    const exists = old !== undefined;
    if ((condition === 'NX' && exists) || (condition === 'XX' && !exists)) return get ? bulk((old as Buffer | undefined) ?? null) : NIL;
    betweenCheckAndAct();
  }
  // (The lookup only while some key has a time: a plain SET pays nothing for expiry then.)
  const hadTime = store.expiresAt !== undefined && !keepTtl && expiry === null && store.expiringKeys?.() !== 0 &&
    (store.expiresAt(key!) ?? 0) !== 0;
  store.set(key!, value!);
  if (expiry !== null) store.setExpiresAt!(key!, at);
  else if (hadTime) store.setExpiresAt!(key!, 0); // a plain SET forgets the old time, as in Redis
  if (get) return bulk((old as Buffer | undefined) ?? null);
  return OK;
}
