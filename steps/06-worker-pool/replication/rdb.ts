// RDB, Redis's snapshot format, as much of it as a full resynchronisation
// needs: strings and lists in database 0, with their expiry times.
//
//   "REDIS0009"                         magic and version
//   0xFA <string> <string>              aux fields (redis-ver, ...), skipped on load
//   0xFE <length>                       SELECTDB
//   0xFB <length> <length>              RESIZEDB (hints)
//   [0xFC <8 bytes ms> | 0xFD <4 bytes s>] 0x00 <key> <value>   a string, maybe with an expiry
//   [0xFC <8 bytes ms> | 0xFD <4 bytes s>] 0x01 <key> <length> <string>...   a list (RDB_TYPE_LIST)
//   0xFF <8 bytes CRC64, little-endian> the end; a zero CRC means "not computed"
//
// A <length> is 1, 2, 5 or 9 bytes (its first two bits say which); a
// <string> is a length and bytes, or (first bits 11) an integer written in 1,
// 2 or 4 bytes, or LZF-compressed bytes: what a real redis-server sends, so a
// replica of ours can load it. A list is written as RDB_TYPE_LIST (1), its
// length then each element as a string: the oldest list encoding, which
// Redis 7 still loads (it converts it to its own). Any other type (hashes,
// sets, Redis's own list encodings, modules...) is refused with an RdbError
// naming it: this server stores strings and lists only, and only reads the
// lists it writes.

export class RdbError extends Error {}

const OPCODE = { AUX: 0xfa, RESIZEDB: 0xfb, EXPIRETIME_MS: 0xfc, EXPIRETIME: 0xfd, SELECTDB: 0xfe, EOF: 0xff } as const;
const TYPE_STRING = 0;
const TYPE_LIST = 1;
const TYPE_NAMES: Record<number, string> = {
  1: 'list', 2: 'set', 3: 'sorted set', 4: 'hash', 5: 'sorted set', 6: 'module', 7: 'module', 9: 'hash (zipmap)',
  10: 'list (ziplist)', 11: 'set (intset)', 12: 'sorted set (ziplist)', 13: 'hash (ziplist)', 14: 'list (quicklist)',
  15: 'stream', 16: 'hash (listpack)', 17: 'sorted set (listpack)', 18: 'list (quicklist 2)', 19: 'stream', 20: 'set (listpack)',
  0xf5: 'function library', 0xf6: 'function library', 0xf7: 'module aux data',
};

// ---- CRC64 (Jones polynomial, reflected, as Redis's crc64.c): two 32-bit halves, no BigInt per byte.
const CRC_LO = new Uint32Array(256);
const CRC_HI = new Uint32Array(256);
{
  const poly = 0x95ac9329ac4bc9b5n;
  for (let i = 0; i < 256; i++) {
    let crc = BigInt(i);
    for (let bit = 0; bit < 8; bit++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
    CRC_LO[i] = Number(crc & 0xffffffffn);
    CRC_HI[i] = Number(crc >> 32n);
  }
}

/** Redis's CRC64 of the bytes (crc64("123456789") = 0xe9c6d914c4b8d9ca). */
export function crc64(bytes: Uint8Array, start = 0, end = bytes.length): bigint {
  let lo = 0;
  let hi = 0;
  for (let i = start; i < end; i++) {
    const index = (lo ^ bytes[i]!) & 0xff;
    lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ CRC_LO[index]!;
    hi = (hi >>> 8) ^ CRC_HI[index]!;
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

// ---- Encoding

function lengthBytes(length: number): Buffer {
  if (length < 0x40) return Buffer.from([length]);
  if (length < 0x4000) return Buffer.from([0x40 | (length >> 8), length & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = 0x80;
  out.writeUInt32BE(length, 1);
  return out;
}

function stringBytes(value: Buffer): Buffer[] {
  return [lengthBytes(value.length), value];
}

/** One key of a snapshot: a string (a Buffer) or a list (its elements, head first). */
export interface RdbEntry {
  key: Buffer;
  value: Buffer | Buffer[];
  /** When the key expires, in ms since 1970; 0 = never. */
  expiresAt: number;
}

function entryBytes({ key, value, expiresAt }: RdbEntry): Buffer[] {
  const parts: Buffer[] = [];
  if (expiresAt !== 0) {
    const time = Buffer.alloc(9);
    time[0] = OPCODE.EXPIRETIME_MS;
    time.writeBigUInt64LE(BigInt(expiresAt), 1);
    parts.push(time);
  }
  if (Array.isArray(value)) {
    parts.push(Buffer.from([TYPE_LIST]), ...stringBytes(key), lengthBytes(value.length));
    for (const element of value) parts.push(...stringBytes(element));
  } else {
    parts.push(Buffer.from([TYPE_STRING]), ...stringBytes(key), ...stringBytes(value));
  }
  return parts;
}

/**
 * An RDB (version 9) holding these keys, with its CRC64. The entries are
 * copied in (the caller took them consistently: see primary.ts).
 */
export function encodeRdb(entries: readonly RdbEntry[]): Buffer {
  const parts: Buffer[] = [Buffer.from('REDIS0009', 'latin1')];
  parts.push(Buffer.from([OPCODE.AUX]), ...stringBytes(Buffer.from('redis-ver')), ...stringBytes(Buffer.from('7.0.15')));
  parts.push(Buffer.from([OPCODE.SELECTDB]), lengthBytes(0));
  const expiring = entries.filter((entry) => entry.expiresAt !== 0).length;
  parts.push(Buffer.from([OPCODE.RESIZEDB]), lengthBytes(entries.length), lengthBytes(expiring));
  for (const entry of entries) parts.push(...entryBytes(entry));
  parts.push(Buffer.from([OPCODE.EOF]));
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(body.length + 8);
  body.copy(out);
  out.writeBigUInt64LE(crc64(body), body.length);
  return out;
}

// ---- Decoding

/** LZF decompression (liblzf's format, which Redis uses): exactly `outLength` bytes. */
export function lzfDecompress(input: Uint8Array, outLength: number): Buffer {
  const out = Buffer.alloc(outLength);
  let i = 0;
  let o = 0;
  while (i < input.length) {
    const ctrl = input[i++]!;
    if (ctrl < 32) { // a literal run of ctrl + 1 bytes
      const run = ctrl + 1;
      if (o + run > outLength || i + run > input.length) throw new RdbError('LZF data runs past its declared length');
      out.set(input.subarray(i, i + run), o);
      i += run;
      o += run;
    } else { // a back reference
      let length = ctrl >> 5;
      if (length === 7) length += input[i++]!;
      length += 2;
      const back = o - ((ctrl & 0x1f) << 8) - input[i++]! - 1;
      if (back < 0 || o + length > outLength) throw new RdbError('LZF back reference out of range');
      for (let k = 0; k < length; k++) out[o++] = out[back + k]!; // may overlap: byte by byte
    }
  }
  if (o !== outLength) throw new RdbError(`LZF data gave ${o} bytes, ${outLength} declared`);
  return out;
}

export interface RdbContents {
  version: number;
  /** Every string and list of every database, in file order, with its expiry time. */
  entries: RdbEntry[];
  /** Keys dropped because their expiry time had passed. */
  expired: number;
  /** Keys loaded with an expiry time. */
  withTtl: number;
}

class Reader {
  pos = 0;
  constructor(readonly bytes: Buffer) {}

  need(count: number): void {
    if (this.pos + count > this.bytes.length) throw new RdbError(`the RDB ends early (at byte ${this.pos}, ${count} more needed)`);
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  take(count: number): Buffer {
    this.need(count);
    const out = this.bytes.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }

  /** A length, or (special) the 6-bit code of an encoded string. */
  length(): { value: number; special: boolean } {
    const first = this.byte();
    switch (first >> 6) {
      case 0: return { value: first & 0x3f, special: false };
      case 1: return { value: ((first & 0x3f) << 8) | this.byte(), special: false };
      case 3: return { value: first & 0x3f, special: true };
      default:
        if (first === 0x80) return { value: this.take(4).readUInt32BE(0), special: false };
        if (first === 0x81) {
          const big = this.take(8).readBigUInt64BE(0);
          if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError('a length beyond 2^53');
          return { value: Number(big), special: false };
        }
        throw new RdbError(`bad length byte 0x${first.toString(16)} at ${this.pos - 1}`);
    }
  }

  plainLength(): number {
    const { value, special } = this.length();
    if (special) throw new RdbError(`an encoded string where a length belongs (at ${this.pos - 1})`);
    return value;
  }

  string(): Buffer {
    const { value, special } = this.length();
    if (!special) return Buffer.from(this.take(value)); // a copy: the reader's buffer is transient
    switch (value) {
      case 0: return Buffer.from(String(this.take(1).readInt8(0)));
      case 1: return Buffer.from(String(this.take(2).readInt16LE(0)));
      case 2: return Buffer.from(String(this.take(4).readInt32LE(0)));
      case 3: {
        const compressed = this.plainLength();
        const original = this.plainLength();
        return lzfDecompress(this.take(compressed), original);
      }
      default: throw new RdbError(`unknown string encoding ${value}`);
    }
  }
}

/**
 * The strings and lists (type 1) in an RDB file. Throws RdbError on anything
 * else (another type, a bad checksum, a cut-short file), naming what it found.
 */
export function decodeRdb(bytes: Buffer, now = Date.now()): RdbContents {
  const reader = new Reader(bytes);
  const magic = reader.take(9).toString('latin1');
  if (!magic.startsWith('REDIS')) throw new RdbError(`not an RDB file (it starts with ${JSON.stringify(magic)})`);
  const version = Number(magic.slice(5));
  if (!Number.isInteger(version) || version < 1 || version > 12) throw new RdbError(`RDB version ${magic.slice(5)} is not supported`);
  const contents: RdbContents = { version, entries: [], expired: 0, withTtl: 0 };
  for (;;) {
    let type = reader.byte();
    let expiresAt: number | null = null;
    if (type === OPCODE.EOF) break;
    if (type === OPCODE.AUX) { reader.string(); reader.string(); continue; }
    if (type === OPCODE.SELECTDB) { reader.plainLength(); continue; }
    if (type === OPCODE.RESIZEDB) { reader.plainLength(); reader.plainLength(); continue; }
    if (type === OPCODE.EXPIRETIME_MS) { expiresAt = Number(reader.take(8).readBigUInt64LE(0)); type = reader.byte(); }
    else if (type === OPCODE.EXPIRETIME) { expiresAt = reader.take(4).readUInt32LE(0) * 1000; type = reader.byte(); }
    if (type !== TYPE_STRING && type !== TYPE_LIST) {
      throw new RdbError(`the RDB holds a ${TYPE_NAMES[type] ?? `type ${type}`} value (byte ${reader.pos - 1}): ` +
        'this server loads strings and plain lists (type 1) only');
    }
    const key = reader.string();
    let value: Buffer | Buffer[];
    if (type === TYPE_STRING) value = reader.string();
    else {
      const length = reader.plainLength();
      value = [];
      for (let i = 0; i < length; i++) value.push(reader.string());
    }
    if (expiresAt !== null && expiresAt <= now) { contents.expired++; continue; }
    if (expiresAt !== null) contents.withTtl++;
    contents.entries.push({ key, value, expiresAt: expiresAt ?? 0 });
  }
  if (version >= 5) {
    const end = reader.pos;
    const stored = reader.take(8).readBigUInt64LE(0);
    if (stored !== 0n) {
      const computed = crc64(bytes, 0, end);
      if (computed !== stored) throw new RdbError(`RDB checksum mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`);
    }
  }
  return contents;
}
