// Glob patterns as Redis matches them (KEYS, SCAN MATCH; Redis's
// stringmatchlen), on bytes:
//
//   *        any run of bytes, the empty one included
//   ?        any one byte
//   [abc]    one of these bytes; [^abc] any other; [a-z] a range (either way round)
//   \x       the byte x itself (also inside [...])
//   anything else matches itself
//
// An unterminated [ takes the rest of the pattern as its set, as Redis does.
//
// The pattern is cut into tokens that each match exactly one byte, and stars;
// then the classic two-pointer search: on a mismatch, go back to the last
// star and let it swallow one more byte. That is O(pattern x key) at worst,
// never exponential like a naive recursion on every star.

type Token =
  | { kind: 'star' }
  | { kind: 'one'; matches: (byte: number) => boolean };

export function globMatch(pattern: Uint8Array, key: Uint8Array): boolean {
  const tokens = tokenize(pattern);
  let t = 0; // next token
  let k = 0; // next byte of the key
  let starToken = -1; // the last star seen, and where the key was then
  let starKey = 0;
  while (k < key.length) {
    const token = tokens[t];
    if (token !== undefined && token.kind === 'star') {
      starToken = t++;
      starKey = k;
    } else if (token !== undefined && token.matches(key[k]!)) {
      t++;
      k++;
    } else if (starToken >= 0) {
      t = starToken + 1; // the star takes one more byte
      k = ++starKey;
    } else {
      return false;
    }
  }
  while (t < tokens.length && tokens[t]!.kind === 'star') t++;
  return t === tokens.length;
}

const BACKSLASH = 0x5c;

function tokenize(pattern: Uint8Array): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const byte = pattern[i]!;
    if (byte === 0x2a) { // '*'
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (byte === 0x3f) { // '?'
      tokens.push({ kind: 'one', matches: () => true });
    } else if (byte === 0x5b) { // '['
      i = bracket(pattern, i + 1, tokens);
    } else if (byte === BACKSLASH && i + 1 < pattern.length) {
      const literal = pattern[++i]!;
      tokens.push({ kind: 'one', matches: (b) => b === literal });
    } else {
      tokens.push({ kind: 'one', matches: (b) => b === byte });
    }
  }
  return tokens;
}

/** Parses a [...] set starting after the '['; returns the index of its ']' (or the last byte). */
function bracket(pattern: Uint8Array, start: number, tokens: Token[]): number {
  let i = start;
  const negate = pattern[i] === 0x5e; // '^'
  if (negate) i++;
  const singles = new Set<number>();
  const ranges: Array<[number, number]> = [];
  for (; i < pattern.length; i++) {
    const byte = pattern[i]!;
    if (byte === BACKSLASH && i + 1 < pattern.length) {
      singles.add(pattern[++i]!);
    } else if (byte === 0x5d) { // ']'
      break;
    } else if (i + 2 < pattern.length && pattern[i + 1] === 0x2d) { // 'a-z'
      const [low, high] = [byte, pattern[i + 2]!].sort((a, b) => a - b) as [number, number];
      ranges.push([low, high]);
      i += 2;
    } else {
      singles.add(byte);
    }
  }
  const inSet = (b: number) => singles.has(b) || ranges.some(([low, high]) => b >= low && b <= high);
  tokens.push({ kind: 'one', matches: negate ? (b) => !inSet(b) : inSet });
  return i;
}
