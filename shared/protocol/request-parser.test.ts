import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RequestParser, splitInline, type ParseEvent, type ParserLimits } from './request-parser.ts';
import { encodeCommand } from './encode.ts';

const SMALL: ParserLimits = { maxInlineBytes: 256, maxBulkBytes: 512, maxArgs: 16, maxRequestBytes: 2048 };

/** Feeds `stream` cut at `cuts` and returns every event, in a comparable form. */
function parseInPieces(stream: Buffer, cuts: number[], limits?: ParserLimits): string[] {
  const parser = new RequestParser(limits);
  const events: ParseEvent[] = [];
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b).concat(stream.length)) {
    events.push(...parser.push(stream.subarray(start, cut)));
    start = cut;
  }
  return events.map(show);
}

function show(event: ParseEvent): string {
  return event.kind === 'command'
    ? `command ${JSON.stringify(event.args.map((arg) => arg.toString('hex')))}`
    : `error ${event.fatal ? 'fatal' : 'soft'} ${event.message}`;
}

const argBytes = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes));
const request = fc.array(argBytes, { minLength: 1, maxLength: 5 });
const inlineWord = fc.stringMatching(/^[a-zA-Z0-9_:.-]{1,12}$/);
const inlineRequest = fc.array(inlineWord, { minLength: 1, maxLength: 5 });

describe('protocol: RESP request parser', () => {
  it('parses an array of bulk strings and an inline command', () => {
    const parser = new RequestParser();
    const events = parser.push(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPOST k "hello world"\r\n'));
    assert.deepEqual(events.map(show), [
      show({ kind: 'command', args: [Buffer.from('GET'), Buffer.from('k')] }),
      show({ kind: 'command', args: [Buffer.from('POST'), Buffer.from('k'), Buffer.from('hello world')] }),
    ]);
  });

  it('gives the same commands however the stream is split (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(
          request.map((args) => encodeCommand(args)),
          inlineRequest.map((words) => Buffer.from(`${words.join(' ')}\r\n`)),
        ), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (requests, rawCuts) => {
          const stream = Buffer.concat(requests);
          const cuts = rawCuts.map((cut) => cut % (stream.length + 1));
          assert.deepEqual(parseInPieces(stream, cuts), parseInPieces(stream, []));
          assert.equal(parseInPieces(stream, []).length, requests.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives the same events for garbage however it is split, never throwing (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 30 }), (bytes, rawCuts) => {
        const stream = Buffer.from(bytes);
        const cuts = rawCuts.map((cut) => cut % (stream.length + 1));
        assert.deepEqual(parseInPieces(stream, cuts, SMALL), parseInPieces(stream, [], SMALL));
      }),
      { numRuns: 500 },
    );
  });

  it('never holds more than the limits allow, whatever arrives (property)', () => {
    // The bound: one unfinished request (maxRequestBytes) plus one unfinished
    // line or bulk (maxBulkBytes + CRLF), whatever the input.
    const bound = SMALL.maxRequestBytes + SMALL.maxBulkBytes + 2;
    const hostile = fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.constant(Buffer.from('*16\r\n')),
      fc.constant(Buffer.from('$512\r\n')),
      fc.nat({ max: 600 }).map((n) => Buffer.alloc(n, 'x')),
    );
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 40 }), (chunks) => {
        const parser = new RequestParser(SMALL);
        for (const chunk of chunks) {
          parser.push(chunk);
          assert.ok(parser.bufferedBytes <= bound, `holds ${parser.bufferedBytes} bytes`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parses a request sent one byte at a time', () => {
    const stream = encodeCommand(['POST', 'key', Buffer.from([0, 13, 10, 255])]);
    const cuts = Array.from({ length: stream.length }, (_, i) => i);
    assert.deepEqual(parseInPieces(stream, cuts), parseInPieces(stream, []));
  });

  it('rejects an endless line with a fatal error, holding at most the limit', () => {
    const parser = new RequestParser(SMALL);
    let events: ParseEvent[] = [];
    for (let i = 0; i < 100 && events.length === 0; i++) events = parser.push(Buffer.alloc(100, 'a'));
    assert.equal(events.length, 1);
    assert.match(show(events[0]!), /^error fatal inline command longer than 256 bytes/);
    assert.ok(parser.failed);
    assert.equal(parser.bufferedBytes, 0);
    assert.deepEqual(parser.push(Buffer.from('PING\r\n')), [], 'a failed parser ignores the rest');
  });

  for (const [input, message] of [
    ['*abc\r\n', /invalid array header/],
    ['*99999999999\r\n', /invalid array header|too many arguments/],
    ['*17\r\n', /too many arguments \(17, the limit is 16\)/],
    ['*1\r\n:3\r\n', /expected '\$' but got ':'/],
    ['*1\r\n$-5\r\n', /invalid bulk length/],
    ['*1\r\n$513\r\n', /argument of 513 bytes, the limit is 512/],
    ['*1\r\n$3\r\nabcXY', /bulk string not followed by CRLF/],
    ['*5\r\n$500\r\n' + 'a'.repeat(500) + '\r\n$500\r\n' + 'b'.repeat(500) + '\r\n$500\r\n' + 'c'.repeat(500) + '\r\n$500\r\n' + 'd'.repeat(500) + '\r\n$500\r\n', /request larger than 2048 bytes/],
    ['*1\r\n' + '$'.repeat(40), /invalid header line/],
  ] as const) {
    it(`rejects ${JSON.stringify(input.slice(0, 24))} with a clear fatal error`, () => {
      const events = new RequestParser(SMALL).push(Buffer.from(input));
      assert.equal(events.length, 1);
      assert.equal(events[0]!.kind, 'error');
      assert.ok(events[0]!.kind === 'error' && events[0]!.fatal);
      assert.match(show(events[0]!), message);
    });
  }

  it('rejects unbalanced quotes in an inline command without closing the connection', () => {
    const parser = new RequestParser();
    const events = parser.push(Buffer.from('POST k "oops\r\nPING\r\n'));
    assert.deepEqual(events.map(show), [
      'error soft unbalanced quotes in inline command',
      show({ kind: 'command', args: [Buffer.from('PING')] }),
    ]);
  });

  it('ignores empty lines and empty arrays, as Redis does', () => {
    const events = new RequestParser().push(Buffer.from('\r\n*0\r\n*-1\r\n  \r\nPING\n'));
    assert.deepEqual(events.map(show), [show({ kind: 'command', args: [Buffer.from('PING')] })]);
  });
});

describe('protocol: inline command quoting', () => {
  it('splits words and honours quotes and escapes', () => {
    assert.deepEqual(splitInline('POST k "hello world"'), ['POST', 'k', 'hello world']);
    assert.deepEqual(splitInline(`SET k 'it\\'s' "tab\\there" "\\x41\\x00"`), ['SET', 'k', "it's", 'tab\there', 'A\x00']);
    assert.deepEqual(splitInline('  GET   k  '), ['GET', 'k']);
    assert.deepEqual(splitInline('POST k ""'), ['POST', 'k', '']);
    assert.equal(splitInline('POST k "a"b'), null);
    assert.equal(splitInline("POST k 'open"), null);
  });
});

describe('protocol: big bulk strings', () => {
  const BIG: ParserLimits = { ...SMALL, maxBulkBytes: 4 * 1024 * 1024, maxRequestBytes: 8 * 1024 * 1024 };

  it('a big argument cut into reads of any size gets a buffer of its declared length, filled as the reads come', () => {
    const value = Buffer.alloc(300_000);
    for (let k = 0; k < value.length; k++) value[k] = (k * 7) & 255;
    const stream = encodeCommand(['SET', 'k', value, 'NX']);
    for (const piece of [1000, 65_536, 99_999, 299_990]) {
      const parser = new RequestParser(BIG);
      const events: ParseEvent[] = [];
      for (let at = 0; at < stream.length; at += piece) {
        events.push(...parser.push(stream.subarray(at, at + piece)));
        // While the value comes in, the parser holds what came, no more (no kept chunks to join).
        if (events.length === 0) assert.ok(parser.bufferedBytes <= Math.min(at + piece, value.length) + 16);
      }
      assert.equal(events.length, 1, `reads of ${piece} bytes`);
      const args = (events[0] as { args: Buffer[] }).args;
      assert.ok(args[2]!.equals(value), `the value, reads of ${piece} bytes`);
      assert.equal(args[3]!.toString(), 'NX', 'the argument after it too');
      // The store keeps such an argument without copying it: a whole SharedArrayBuffer of its length.
      assert.ok(args[2]!.buffer instanceof SharedArrayBuffer && args[2]!.buffer.byteLength === value.length);
    }
  });

  it('a big argument not followed by CRLF is a fatal error, even when the CRLF comes in a later read', () => {
    const parser = new RequestParser(BIG);
    assert.deepEqual(parser.push(Buffer.from(`*1\r\n$100000\r\n`)), []);
    assert.deepEqual(parser.push(Buffer.alloc(100_000, 1)), []);
    assert.deepEqual(parser.push(Buffer.from('\r')), []);
    assert.deepEqual(parser.push(Buffer.from('X')).map(show), ['error fatal bulk string not followed by CRLF']);
    assert.ok(parser.failed);
  });
});
