import { error, type Reply } from '../protocol/reply.ts';
import { TYPE_LIST, type Store } from '../store/store.ts';

// What several command tables share: Redis's error replies, word for word
// (clients and their tests match on them), and the number parsing.

export const NOT_AN_INTEGER = error('ERR', 'value is not an integer or out of range');
export const SYNTAX_ERROR = error('ERR', 'syntax error');
export const WRONGTYPE = error('WRONGTYPE', 'Operation against a key holding the wrong kind of value');

/**
 * Whether `bytes` spell `upper` (a word in capitals: a command's name, an
 * option) in any mix of cases; the caller has checked that the lengths are
 * equal. No string is made: it runs for every request.
 */
export function spells(bytes: Uint8Array, upper: string): boolean {
  for (let i = 0; i < upper.length; i++) {
    const want = upper.charCodeAt(i);
    const got = bytes[i]!;
    if (got !== want && !(want >= 0x41 && want <= 0x5a && got === (want | 0x20))) return false;
  }
  return true;
}

/** The first of `words` (each in capitals) that `bytes` spell in any case, or null. */
export function spelledAs<const Word extends string>(bytes: Uint8Array, words: readonly Word[]): Word | null {
  for (const word of words) if (bytes.length === word.length && spells(bytes, word)) return word;
  return null;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/**
 * A 64-bit signed integer written as Redis writes one (its string2ll): digits,
 * an optional '-', no '+', no spaces, no leading zeros; null otherwise.
 */
export function parseInt64(bytes: Buffer): bigint | null {
  if (bytes.length === 0 || bytes.length > 20) return null;
  const text = bytes.toString('latin1');
  if (text !== '0' && !/^-?[1-9]\d*$/.test(text)) return null;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? null : value;
}

/**
 * A string command's read: the value, undefined when absent, or WRONGTYPE
 * when the key is a list. A list's record has an empty value, so only an
 * empty value costs the second lookup (its type tag).
 */
export function readString(store: Store, key: Buffer): Buffer | undefined | typeof WRONGTYPE {
  const value = store.get(key);
  if (value !== undefined && value.length === 0 && store.typeOf?.(key) === TYPE_LIST) return WRONGTYPE;
  return value;
}

/** Whether `reply` is this table's WRONGTYPE error. */
export const isWrongType = (value: Buffer | undefined | Reply): value is Reply => value === WRONGTYPE;
