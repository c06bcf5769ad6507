import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplyWriter, encodeCommand, encodeReply } from './encode.ts';
import { ReplyParser } from './reply-parser.ts';
import { RequestParser } from './request-parser.ts';
import type { Reply } from './reply.ts';

// The encoder and the two parsers agree: whatever is written reads back the same.

const word = fc.stringMatching(/^[A-Z_]{1,12}$/);
const reply: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)).map((value): Reply => ({ type: 'simple', value })),
    fc.tuple(word, fc.string({ maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)))
      .map(([code, message]): Reply => ({ type: 'error', code, message })),
    fc.maxSafeInteger().map((value): Reply => ({ type: 'integer', value })),
    fc.integer().map((value): Reply => ({ type: 'integer', value })),
    fc.option(fc.uint8Array({ maxLength: 300 })).map((bytes): Reply => ({ type: 'bulk', value: bytes && Buffer.from(bytes) })),
    fc.option(fc.array(tie('reply'), { maxLength: 5 })).map((value): Reply => ({ type: 'array', value })),
  ),
})).reply;

describe('protocol: reply encoder', () => {
  it('writes replies that the reply parser reads back identically (property)', () => {
    fc.assert(
      fc.property(fc.array(reply, { minLength: 1, maxLength: 10 }), (replies) => {
        const writer = new ReplyWriter();
        for (const r of replies) writer.reply(r);
        const parsed = new ReplyParser().push(writer.take());
        assert.deepEqual(parsed, replies);
        assert.equal(writer.size, 0, 'take() empties the writer');
      }),
      { numRuns: 300 },
    );
  });

  it('never writes over what take() handed out, across buffers and large replies (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(reply, fc.integer({ min: 5_000, max: 40_000 }).map((n): Reply => ({ type: 'bulk', value: Buffer.alloc(n, 120) }))), { minLength: 1, maxLength: 60 }),
        (replies) => {
          const writer = new ReplyWriter();
          const taken = replies.map((r) => {
            writer.reply(r);
            return writer.take();
          });
          replies.forEach((r, i) => assert.deepEqual(taken[i], encodeReply(r), `reply ${i} is intact`));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('does not keep a buffer grown for a large reply under the small ones after it', () => {
    const writer = new ReplyWriter();
    writer.reply({ type: 'bulk', value: Buffer.alloc(100_000) });
    assert.equal(writer.take().length, 100_000 + 11); // "$100000\r\n" and the closing CRLF
    writer.reply({ type: 'simple', value: 'OK' });
    const small = writer.take();
    assert.equal(small.toString(), '+OK\r\n');
    assert.ok(small.buffer.byteLength < 100_000, `a small reply holds ${small.buffer.byteLength} bytes`);
  });

  it('keeps an error or simple string on one line', () => {
    assert.equal(encodeReply({ type: 'error', code: 'BAD', message: 'a\r\nb' }).toString(), '-BAD a b\r\n');
    assert.equal(encodeReply({ type: 'integer', value: -42 }).toString(), ':-42\r\n');
    assert.equal(encodeReply({ type: 'integer', value: 0 }).toString(), ':0\r\n');
  });

  it('encodes requests that the request parser reads back (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { minLength: 1, maxLength: 6 }), (args) => {
        const events = new RequestParser().push(encodeCommand(args));
        assert.deepEqual(events, [{ kind: 'command', args: args.map((a) => Buffer.from(a)) }]);
      }),
      { numRuns: 200 },
    );
  });
});
