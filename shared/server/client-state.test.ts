import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { executeCommand, type CommandContext } from '../commands/commands.ts';
import { globMatch } from '../commands/glob.ts';
import { KeyVersions, VersionedStore } from '../commands/key-versions.ts';
import { encodeCommand } from '../protocol/encode.ts';
import { MapStore } from '../store/map-store.ts';
import { ClientState, MAX_QUEUED_COMMANDS, type StoreAccess } from './client-state.ts';
import { Session } from './session.ts';

// The connection's state on its own, over a Map store: what EXEC takes the
// lock for, what WATCH notices, and HELLO's bytes. (Every step's server runs
// the same code; tester/harness/redis-suites.ts checks it through each.)

function setup(buckets?: number) {
  const versions = KeyVersions.create(buckets);
  const store = new VersionedStore(new MapStore(), versions);
  const context: CommandContext = { store, betweenCheckAndAct() {}, workMs: 0, serverInfo: () => ({}) };
  const run = (args: Buffer[]) => executeCommand(args, context);
  let exclusiveCalls = 0;
  const access: StoreAccess = {
    exclusive: (body) => {
      exclusiveCalls++;
      return body(run);
    },
  };
  const open = () => new Session(run, new ClientState(access, versions));
  return { open, exclusiveCalls: () => exclusiveCalls };
}

/** Sends requests through a session and returns the reply bytes as text. */
function say(session: Session, ...requests: string[][]): string {
  return session.receive(Buffer.concat(requests.map((request) => encodeCommand(request)))).bytes?.toString('latin1') ?? '';
}

describe('client state: transactions', () => {
  it('EXEC takes the exclusive lock once for its whole queue, and not at all when it aborts', () => {
    const { open, exclusiveCalls } = setup();
    const a = open();
    assert.equal(say(a, ['MULTI'], ['SET', 'k', '1'], ['INCR', 'k'], ['GET', 'k'], ['EXEC']),
      '+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n');
    assert.equal(exclusiveCalls(), 1);
    assert.equal(say(a, ['MULTI'], ['NOPE'], ['EXEC']).split('\r\n').at(-2), '-EXECABORT Transaction discarded because of previous errors.');
    assert.equal(exclusiveCalls(), 1, 'an aborted EXEC runs nothing');
  });

  it('a queue past its bound is refused and makes EXEC abort (memory stays bounded)', () => {
    const { open } = setup();
    const a = open();
    say(a, ['MULTI']);
    const queued = Array.from({ length: MAX_QUEUED_COMMANDS }, () => ['INCR', 'n']);
    assert.equal(say(a, ...queued).length, '+QUEUED\r\n'.length * MAX_QUEUED_COMMANDS);
    assert.match(say(a, ['INCR', 'n']), /^-ERR transaction too large: at most 100000 commands/);
    assert.equal(say(a, ['EXEC']), '-EXECABORT Transaction discarded because of previous errors.\r\n');
    assert.equal(say(a, ['GET', 'n']), '$-1\r\n');
  });

  it('FLUSHDB aborts a transaction that watched a key it removed, not one that watched an absent key', () => {
    const { open } = setup();
    const a = open();
    const b = open();
    say(a, ['SET', 'present', '1']);
    say(a, ['WATCH', 'present']);
    say(b, ['FLUSHDB']);
    assert.equal(say(a, ['MULTI'], ['SET', 'x', '1'], ['EXEC']), '+OK\r\n+QUEUED\r\n*-1\r\n');
    say(a, ['WATCH', 'absent']);
    say(b, ['FLUSHDB']);
    assert.equal(say(a, ['MULTI'], ['SET', 'x', '1'], ['EXEC']), '+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n');
  });

  it('a write to another key of the same version bucket aborts too (the documented false conflict)', () => {
    const { open } = setup(1); // one bucket: every key shares it
    const a = open();
    const b = open();
    say(a, ['WATCH', 'mine']);
    say(b, ['SET', 'someone-else', 'v']);
    assert.equal(say(a, ['MULTI'], ['SET', 'mine', '1'], ['EXEC']), '+OK\r\n+QUEUED\r\n*-1\r\n');
  });

  it('HELLO 3 switches the replies to RESP3 (its own reply included), HELLO 2 back', () => {
    const { open } = setup();
    const a = open();
    assert.equal(say(a, ['GET', 'none']), '$-1\r\n');
    const hello = say(a, ['HELLO', '3'], ['GET', 'none'], ['MGET', 'none']);
    assert.match(hello, /^%7\r\n/);
    assert.ok(hello.endsWith('\r\n_\r\n*1\r\n_\r\n'), JSON.stringify(hello));
    assert.match(say(a, ['HELLO', '2'], ['GET', 'none']), /^\*14\r\n[\s\S]*:2\r\n[\s\S]*\$-1\r\n$/);
  });
});

describe('glob patterns, as Redis matches them', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*', '', true], ['*', 'anything', true], ['a*', 'a', true], ['a*b', 'axxb', true], ['a*b', 'axxbc', false],
    ['h?llo', 'hello', true], ['h?llo', 'hllo', false], ['h[ae]llo', 'hallo', true], ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true], ['h[^e]llo', 'hello', false], ['h[a-b]llo', 'hbllo', true], ['h[b-a]llo', 'hallo', true],
    ['h\\*llo', 'h*llo', true], ['h\\*llo', 'hello', false], ['[\\]]', ']', true], ['*a*a*a*a*a*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaa', false],
    ['user:[0-9]*', 'user:7x', true], ['[abc', 'b', true],
  ];
  for (const [pattern, key, want] of cases) {
    it(`${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(key)}`, () => {
      assert.equal(globMatch(Buffer.from(pattern), Buffer.from(key)), want);
    });
  }
});
