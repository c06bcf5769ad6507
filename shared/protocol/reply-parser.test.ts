import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bulk, integer, map, verbatim, type Reply } from './reply.ts';
import { encodeReply } from './encode.ts';
import { ReplyParser, ReplyParserError } from './reply-parser.ts';

const parse = (wire: string): Reply[] => new ReplyParser().push(Buffer.from(wire));

describe('protocol: reply parser, RESP3', () => {
  it('reads what our encoder writes after HELLO 3: nulls, maps, verbatim strings', () => {
    const replies: Reply[] = [
      bulk(null),
      map([['server', bulk('redis')], ['proto', integer(3)]]),
      verbatim('# Server\r\nkeys:1\r\n'),
      { type: 'array', value: null },
    ];
    const wire = Buffer.concat(replies.map((reply) => encodeReply(reply, 3)));
    assert.ok(wire.includes('%2\r\n') && wire.includes('=') && wire.includes('_\r\n'), 'RESP3 bytes were written');
    const parsed = new ReplyParser().push(wire);
    assert.deepEqual(parsed.slice(0, 3), replies.slice(0, 3));
    assert.deepEqual(parsed[3], bulk(null), 'a null array is the same `_` in RESP3');
  });

  it('reads the other RESP3 types as values the course knows', () => {
    assert.deepEqual(parse('#t\r\n#f\r\n'), [integer(1), integer(0)]);
    assert.deepEqual(parse(',3.14\r\n'), [bulk('3.14')]);
    assert.deepEqual(parse('(3492890328409238509324850943850943825024385\r\n'),
      [integer(3492890328409238509324850943850943825024385n)]);
    assert.deepEqual(parse('~2\r\n:1\r\n:2\r\n>1\r\n+x\r\n'),
      [{ type: 'array', value: [integer(1), integer(2)] }, { type: 'array', value: [{ type: 'simple', value: 'x' }] }]);
    assert.deepEqual(parse('!21\r\nSYNTAX invalid syntax\r\n'), [{ type: 'error', code: 'SYNTAX', message: 'invalid syntax' }]);
    assert.deepEqual(parse('|1\r\n+ttl\r\n:3600\r\n:7\r\n'), [integer(7)], 'an attribute is skipped');
  });

  it('waits for the rest of a RESP3 reply cut anywhere', () => {
    const wire = Buffer.from('%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n+proto\r\n:3\r\n=15\r\ntxt:Some string\r\n');
    for (let cut = 1; cut < wire.length; cut++) {
      const parser = new ReplyParser();
      const replies = [...parser.push(wire.subarray(0, cut)), ...parser.push(wire.subarray(cut))];
      assert.equal(replies.length, 2, `cut at ${cut}`);
      assert.equal(replies[0]!.type, 'map');
      assert.deepEqual(replies[1], verbatim('Some string'));
    }
  });

  it('refuses a bad boolean or count with a clear error', () => {
    assert.throws(() => parse('#x\r\n'), ReplyParserError);
    assert.throws(() => parse('%-2\r\n'), ReplyParserError);
  });
});
