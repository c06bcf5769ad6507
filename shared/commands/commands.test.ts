import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, commandSpec, executeCommand, type CommandContext } from './commands.ts';
import { spells } from './parse.ts';
import { encodeCommand } from '../protocol/encode.ts';
import { Session } from '../server/session.ts';
import { MapStore } from '../store/map-store.ts';
import { StoreError, type Store } from '../store/store.ts';

// A bug inside a command must cost one error reply, not the connection's
// thread or the server (see the catch in executeCommand).

/** A Map store whose set() fails the way a bug would, for one key. */
class BrokenStore extends MapStore {
  override set(key: Buffer, value: Buffer): void {
    if (key.toString() === 'bug') throw new TypeError('a bug in set');
    if (key.toString() === 'big') throw new StoreError('TOO_LARGE', 'value too large');
    super.set(key, value);
  }
}

const context = (store: Store): CommandContext => ({ store, betweenCheckAndAct() {}, workMs: 0, serverInfo: () => ({}) });
const args = (...words: string[]) => words.map((word) => Buffer.from(word));

describe('commands: a failure inside a command', () => {
  it('is answered INTERNAL_ERROR and logged; a StoreError keeps its own code', (t) => {
    const logged = t.mock.method(console, 'error', () => {});
    const ctx = context(new BrokenStore());
    const reply = executeCommand(args('SET', 'bug', 'v'), ctx);
    assert.equal(reply.type, 'error');
    assert.equal(reply.type === 'error' && reply.code, 'INTERNAL_ERROR');
    assert.match(reply.type === 'error' ? reply.message : '', /SET failed inside the server \(a bug in set\)/);
    assert.equal(logged.mock.callCount(), 1, 'the stack goes to the log');
    assert.deepEqual(executeCommand(args('SET', 'big', 'v'), ctx), { type: 'error', code: 'TOO_LARGE', message: 'value too large' });
    assert.deepEqual(executeCommand(args('SET', 'k', 'v'), ctx), { type: 'simple', value: 'OK' });
  });

  it('leaves the session serving the requests after it, in the same read and the next', (t) => {
    t.mock.method(console, 'error', () => {});
    const ctx = context(new BrokenStore());
    const session = new Session((request) => executeCommand(request, ctx));
    const first = session.receive(Buffer.concat([encodeCommand(['SET', 'bug', 'v']), encodeCommand(['SET', 'k', 'v'])]));
    assert.match(first.bytes!.toString(), /^-INTERNAL_ERROR SET failed inside the server .*\r\n\+OK\r\n$/);
    assert.equal(first.close, false);
    assert.equal(session.receive(encodeCommand(['GET', 'k'])).bytes!.toString(), '$1\r\nv\r\n');
  });
});

describe('commands: what redis-cli and redis-benchmark ask when they connect', () => {
  it('COMMAND COUNT is the number of commands HELP lists; COMMAND and COMMAND DOCS an empty list', () => {
    const ctx = context(new MapStore());
    const count = executeCommand(args('COMMAND', 'COUNT'), ctx);
    const help = executeCommand(args('HELP'), ctx);
    assert.equal(count.type, 'integer');
    assert.ok(help.type === 'array' && help.value !== null);
    assert.equal(count.type === 'integer' && Number(count.value), help.value.length);
    assert.deepEqual(executeCommand(args('COMMAND'), ctx), { type: 'array', value: [] });
    assert.deepEqual(executeCommand(args('command', 'docs', 'get'), ctx), { type: 'array', value: [] });
  });
});

// The lookup compares the name's bytes (no string per request): it must find
// every command in any mix of cases, and nothing else.
describe('commands: the lookup by name', () => {
  const mixed = (name: string) => [...name].map((c, i) => (i % 2 === 0 ? c.toLowerCase() : c)).join('');

  it('finds every command of the table by its name in upper, lower and mixed case', () => {
    for (const name of Object.keys(COMMANDS)) {
      for (const spelled of [name, name.toLowerCase(), mixed(name)]) {
        assert.equal(commandSpec(args(spelled))?.name, name, spelled);
      }
    }
  });

  it('finds nothing for a name one letter off, longer, shorter, empty, or with a byte that only folds like a letter', () => {
    for (const name of ['SETT', 'SE', 'SEX', 'GETS', '', 'S', 'SET ', 'INCRBYFLOATS', 'x'.repeat(17)]) {
      assert.equal(commandSpec(args(name)), undefined, JSON.stringify(name));
    }
    assert.equal(commandSpec([Buffer.from([0x73, 0x65, 0x74 | 0x80])]), undefined, 'a byte past ASCII');
  });

  it('spells(): only A-Z match their lower case', () => {
    assert.equal(spells(Buffer.from('a'), 'A'), true);
    assert.equal(spells(Buffer.from('z'), 'Z'), true);
    // '@' (0x40) | 0x20 is '`', '[' (0x5b) | 0x20 is '{', '_' | 0x20 is DEL.
    assert.equal(spells(Buffer.from('`'), '@'), false);
    assert.equal(spells(Buffer.from('{'), '['), false);
    assert.equal(spells(Buffer.from([0x7f]), '_'), false);
    assert.equal(spells(Buffer.from('A'), 'a'), false, 'the word is in capitals: an upper-case byte never matches a lower-case letter');
  });

  it('reads SET\'s options in any case, and names an unknown one as sent, upper-cased', () => {
    const store = new MapStore();
    const ctx = context(store);
    assert.deepEqual(executeCommand(args('set', 'k', 'v', 'nx'), ctx), { type: 'simple', value: 'OK' });
    assert.deepEqual(executeCommand(args('SET', 'k', 'w', 'Nx'), ctx), { type: 'bulk', value: null }, 'NX: the key exists');
    assert.deepEqual(executeCommand(args('SET', 'k', 'w', 'xX', 'gEt'), ctx), { type: 'bulk', value: Buffer.from('v') });
    const soon = Date.now() + 100_000;
    for (const [option, time] of [['ex', '100'], ['pX', '100000'], ['exat', String(Math.ceil(soon / 1000))], ['PxAt', String(soon)]]) {
      assert.deepEqual(executeCommand(args('SET', 't', 'v', option!, time!), ctx), { type: 'simple', value: 'OK' }, option);
      const at = store.expiresAt(Buffer.from('t'))!;
      assert.ok(at > Date.now() + 90_000 && at <= soon + 1000, `${option} ${time}: expires at ${at}`);
    }
    assert.deepEqual(executeCommand(args('SET', 't', 'w', 'keepTTL'), ctx), { type: 'simple', value: 'OK' });
    assert.ok(store.expiresAt(Buffer.from('t'))! > Date.now(), 'KEEPTTL kept the time');
    const unknown = executeCommand(args('SET', 'k', 'v', 'nxx'), ctx);
    assert.equal(unknown.type, 'error');
    assert.match(unknown.type === 'error' ? unknown.message : '', /unknown SET option 'NXX'/);
  });
});
