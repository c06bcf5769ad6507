import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RdbError, crc64, decodeRdb, encodeRdb, lzfDecompress, type RdbEntry } from './rdb.ts';
import { Backlog } from './backlog.ts';
import { commandOfRecord } from './primary.ts';
import { commandRecord, delRecord, setRecord, setTask } from '../../../shared/persistence/task.ts';

describe('replication: RDB', () => {
  it("CRC64 is Redis's (crc64.c's test vector)", () => {
    assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
  });

  it('encodes strings and lists, with expiry times, and decodes them back, binary-safe, long lengths included', () => {
    const later = Date.now() + 60_000;
    const entries: RdbEntry[] = [
      { key: Buffer.from('a'), value: Buffer.from('1'), expiresAt: 0 },
      { key: Buffer.from([0, 13, 10, 255]), value: Buffer.alloc(70_000, 7), expiresAt: 0 }, // a 32-bit length
      { key: Buffer.from('k'.repeat(100)), value: Buffer.from(''), expiresAt: later }, // a 14-bit length
      { key: Buffer.from('list'), value: [Buffer.from('x'), Buffer.from([0, 13, 10]), Buffer.from('')], expiresAt: later },
    ];
    const rdb = encodeRdb(entries);
    assert.equal(rdb.subarray(0, 9).toString(), 'REDIS0009');
    const decoded = decodeRdb(rdb);
    assert.deepEqual(decoded.entries, entries);
    assert.equal(decoded.withTtl, 2);
  });

  it('drops keys whose time has passed, lists included, and counts them', () => {
    const rdb = encodeRdb([
      { key: Buffer.from('old'), value: [Buffer.from('x')], expiresAt: 1000 },
      { key: Buffer.from('new'), value: Buffer.from('v'), expiresAt: 0 },
    ]);
    const decoded = decodeRdb(rdb);
    assert.deepEqual(decoded.entries.map((e) => e.key.toString()), ['new']);
    assert.equal(decoded.expired, 1);
  });

  it('decodes integer-encoded and LZF-compressed strings, as a real redis-server writes them', () => {
    // 0xC0 int8 -5, 0xC1 int16 1000, 0xC2 int32 -70000; 0xC3 LZF "aaaaaaaaaa" (literal 'a', back ref of 9).
    const body = Buffer.concat([
      Buffer.from('REDIS0009'),
      Buffer.from([0xfe, 0x00]),
      Buffer.from([0x00, 0x01, 0x61, 0xc0, 0xfb]), // a -> -5
      Buffer.from([0x00, 0x01, 0x62, 0xc1, 0xe8, 0x03]), // b -> 1000
      Buffer.from([0x00, 0x01, 0x63, 0xc2]), Buffer.from(new Int32Array([-70000]).buffer), // c -> -70000
      Buffer.from([0x00, 0x01, 0x64, 0xc3, 0x05, 0x0a, 0x00, 0x61, 0xe0, 0x00, 0x00]), // d -> a x 10
      Buffer.from([0xff]),
    ]);
    const rdb = Buffer.concat([body, Buffer.alloc(8)]); // CRC zero: not checked
    const got = decodeRdb(rdb).entries.map(({ key, value }) => `${key}=${String(value)}`);
    assert.deepEqual(got, ['a=-5', 'b=1000', 'c=-70000', 'd=aaaaaaaaaa']);
  });

  it('refuses other types, a bad checksum and a cut-short file, naming the problem', () => {
    const list = Buffer.concat([Buffer.from('REDIS0009'), Buffer.from([0x0e, 0x01, 0x6c]), Buffer.alloc(9)]);
    assert.throws(() => decodeRdb(list), (e: Error) => e instanceof RdbError && /list \(quicklist\).*strings and plain lists/.test(e.message));
    const good = encodeRdb([{ key: Buffer.from('a'), value: Buffer.from('b'), expiresAt: 0 }]);
    const bad = Buffer.from(good);
    bad[bad.length - 1]! ^= 1;
    assert.throws(() => decodeRdb(bad), /checksum mismatch/);
    assert.throws(() => decodeRdb(good.subarray(0, 20)), /ends early/);
    assert.throws(() => lzfDecompress(Buffer.from([0xe0, 0x00, 0x05]), 10), /out of range/);
  });
});

describe('replication: backlog and stream', () => {
  it('keeps the last bytes in a ring, and answers only offsets it still holds', () => {
    const backlog = new Backlog(16);
    backlog.append(Buffer.from('0123456789'));
    assert.equal(backlog.from(4)?.toString(), '456789');
    backlog.append(Buffer.from('abcdefghij')); // 20 bytes written, 16 kept
    assert.equal(backlog.start, 4);
    assert.equal(backlog.from(4)?.toString(), '456789abcdefghij');
    assert.equal(backlog.from(19)?.toString(), 'j');
    assert.equal(backlog.from(20)?.toString(), '');
    assert.equal(backlog.from(3), null, 'overwritten');
    assert.equal(backlog.from(21), null, 'not written yet');
  });

  it('a persistence record becomes the client command, without its sequence number; SET keeps the time (KEEPTTL)', () => {
    const set = Buffer.concat(commandOfRecord(setRecord(123456, Buffer.from('key'), Buffer.from('a\r\nvalue'))));
    assert.equal(set.toString(), '*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$8\r\na\r\nvalue\r\n$7\r\nKEEPTTL\r\n');
    const del = Buffer.concat(commandOfRecord(delRecord(7, Buffer.from('k'))));
    assert.equal(del.toString(), '*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n');
  });

  it('a big SET whose task refers to its value (not copied into the record) becomes the same command as one copied', () => {
    const bytes = Buffer.alloc(100 * 1024, 'x');
    const parsed = Buffer.from(new SharedArrayBuffer(bytes.length)); // as the request parser hands a big argument over
    bytes.copy(parsed);
    const referred = setTask(9, 0, Buffer.from('key'), parsed);
    assert.ok(referred.value !== undefined, 'the task refers to the value');
    assert.deepEqual(Buffer.concat(commandOfRecord(referred.record, referred.value)), Buffer.concat(commandOfRecord(setRecord(9, Buffer.from('key'), bytes))));
  });

  it("expiry and list records become Redis's commands: TYPE k 2 a DEL (its SET k \"\" undone), PEXPIREAT k 0 a PERSIST", () => {
    const command = (op: string, arg?: string) => Buffer.concat(commandOfRecord(commandRecord(42, op, Buffer.from('k'), arg))).toString();
    assert.equal(command('TYPE', '2'), '*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n');
    assert.equal(command('PEXPIREAT', '0'), '*2\r\n$7\r\nPERSIST\r\n$1\r\nk\r\n');
    assert.equal(command('PEXPIREAT', '1700000000000'), '*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$13\r\n1700000000000\r\n');
    assert.equal(command('RPUSH', 'e'), '*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$1\r\ne\r\n');
    assert.equal(command('LPOP'), '*2\r\n$4\r\nLPOP\r\n$1\r\nk\r\n');
  });
});
