import { NIL, array, bulk, error, integer, type Reply } from '../protocol/reply.ts';
import { TYPE_LIST, TYPE_NONE } from '../store/store.ts';
import type { CommandContext, CommandSpec } from './commands.ts';
import { NOT_AN_INTEGER, WRONGTYPE, parseInt64 } from './parse.ts';

// The list commands (issue 13), with Redis's replies and errors. Their
// elements live beside the store (shared/store/lists.ts), on the thread that
// runs them: a step without a Lists in its context (02-05: a thread per
// connection, see docs/race-conditions.md) answers a clear error.

type Spec = Omit<CommandSpec, 'name'>;

const NO_LISTS = error('ERR', 'lists live on the event loop (steps 01 and 06); this step has none');
const NULL_ARRAY = array(null);

/**
 * The reply of a BLPOP/BRPOP that blocked: the connection recognises it (by
 * identity, it is never encoded), takes the waiter from `lists.takeBlocked()`
 * and answers when the promise resolves.
 */
export const BLOCKED: Reply = Object.freeze({ type: 'simple', value: 'BLOCKED (never sent)' }) as Reply;

// The key as a list: 'absent', 'wrong' (a string), or ok.
function kindOf({ store }: CommandContext, key: Buffer): 'absent' | 'list' | 'wrong' {
  const type = store.typeOf!(key);
  return type === TYPE_NONE ? 'absent' : type === TYPE_LIST ? 'list' : 'wrong';
}

function push(left: boolean): Spec {
  const name = left ? 'LPUSH' : 'RPUSH';
  return {
    usage: `${name} key element [element ...]`, minArgs: 2, maxArgs: Infinity, writes: true, redisErrors: true,
    summary: `add elements at the ${left ? 'head' : 'tail'}; replies the new length`,
    run([key, ...elements], context) {
      const { lists, store } = context;
      if (lists === undefined) return NO_LISTS;
      if (kindOf(context, key!) === 'wrong') return WRONGTYPE;
      return integer(lists.push(store, key!, elements, left));
    },
  };
}

function pop(left: boolean): Spec {
  const name = left ? 'LPOP' : 'RPOP';
  return {
    usage: `${name} key [count]`, minArgs: 1, maxArgs: 2, writes: true, redisErrors: true,
    summary: `remove and return the ${left ? 'first' : 'last'} element (or up to count)`,
    run([key, countText], context) {
      const { lists, store } = context;
      if (lists === undefined) return NO_LISTS;
      let count = 1;
      if (countText !== undefined) {
        const parsed = parseInt64(countText);
        if (parsed === null || parsed < 0n) return error('ERR', 'value is out of range, must be positive');
        count = Number(parsed > 1_000_000_000n ? 1_000_000_000n : parsed);
      }
      const kind = kindOf(context, key!);
      if (kind === 'wrong') return WRONGTYPE;
      if (kind === 'absent') return countText === undefined ? NIL : NULL_ARRAY;
      const popped = lists.pop(store, key!, left, count);
      if (countText === undefined) return bulk(popped[0] ?? null);
      return array(popped.map((element) => bulk(element)));
    },
  };
}

/** BLPOP's timeout: float seconds, 0 = forever; ms, or a Reply when invalid. */
function timeoutMs(text: Buffer): number | Reply {
  const source = text.toString('latin1');
  const seconds = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(source) ? Number(source) : NaN;
  if (!Number.isFinite(seconds) || seconds * 1000 > Number.MAX_SAFE_INTEGER) return error('ERR', 'timeout is not a float or out of range');
  if (seconds < 0) return error('ERR', 'timeout is negative');
  return seconds === 0 ? 0 : Math.max(1, Math.round(seconds * 1000));
}

function blockingPop(left: boolean): Spec {
  const name = left ? 'BLPOP' : 'BRPOP';
  return {
    usage: `${name} key [key ...] timeout`, minArgs: 2, maxArgs: Infinity, writes: true, redisErrors: true,
    summary: `${left ? 'LPOP' : 'RPOP'} from the first non-empty key, or wait for a push (timeout in seconds, 0 = forever)`,
    run(args, context) {
      const { lists, store } = context;
      if (lists === undefined) return NO_LISTS;
      const keys = args.slice(0, -1);
      const timeout = timeoutMs(args[args.length - 1]!);
      if (typeof timeout !== 'number') return timeout;
      for (const key of keys) {
        const kind = kindOf(context, key);
        if (kind === 'wrong') return WRONGTYPE;
        if (kind === 'list') {
          const [element] = lists.pop(store, key, left, 1);
          if (element !== undefined) return array([bulk(key), bulk(element)]);
        }
      }
      // Inside MULTI (or anywhere a client cannot wait), as Redis: a timeout at once.
      if (!context.canBlock) return NULL_ARRAY;
      lists.block(keys, left, timeout);
      return BLOCKED;
    },
  };
}

export const LIST_COMMANDS: Record<string, Spec> = {
  LPUSH: push(true),
  RPUSH: push(false),
  LPOP: pop(true),
  RPOP: pop(false),
  BLPOP: blockingPop(true),
  BRPOP: blockingPop(false),
  LLEN: {
    usage: 'LLEN key', minArgs: 1, maxArgs: 1, writes: false, redisErrors: true,
    summary: 'the length of the list (0 when absent)',
    run([key], context) {
      if (context.lists === undefined) return NO_LISTS;
      const kind = kindOf(context, key!);
      if (kind === 'wrong') return WRONGTYPE;
      return integer(context.lists.get(context.store, key!)?.length ?? 0);
    },
  },
  LRANGE: {
    usage: 'LRANGE key start stop', minArgs: 3, maxArgs: 3, writes: false, redisErrors: true,
    summary: 'elements start..stop (inclusive; negative counts from the end)',
    run([key, startText, stopText], context) {
      if (context.lists === undefined) return NO_LISTS;
      const start = parseInt64(startText!);
      const stop = parseInt64(stopText!);
      if (start === null || stop === null) return NOT_AN_INTEGER;
      const kind = kindOf(context, key!);
      if (kind === 'wrong') return WRONGTYPE;
      const list = context.lists.get(context.store, key!);
      if (list === undefined) return array([]);
      const length = BigInt(list.length);
      let from = start < 0n ? start + length : start;
      let to = stop < 0n ? stop + length : stop;
      if (from < 0n) from = 0n;
      if (to >= length) to = length - 1n;
      if (from > to) return array([]);
      return array(list.range(Number(from), Number(to)).map((element) => bulk(element)));
    },
  },
};
