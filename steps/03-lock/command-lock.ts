import type { OptionSpec } from '../../shared/cli/options.ts';
import { isWrite } from '../../shared/commands/commands.ts';
import type { Reply } from '../../shared/protocol/reply.ts';
import { Mutex } from '../../shared/locks/mutex.ts';
import { RwLock } from '../../shared/locks/rwlock.ts';

// The lock a command runs under: a mutex, or a read-write lock. This is the
// whole difference between step 02, which races, and step 03, which does not.
// Steps 04, 05 and 06 take their lock through this same file.
//
// The lock is not a JavaScript object that threads share (they cannot share
// objects): it is a few Int32 words in shared memory - here the spare words of
// the store's own buffer, `store.lockWords` - and every thread wraps the same
// words in its own Mutex or RwLock object. Same words, same lock.
//
// A whole command runs under the lock, not each store call: POST is "get,
// then set", and only holding the lock across both makes the pair atomic.

export const LOCK_KINDS = ['mutex', 'rw'] as const;
export type LockKind = (typeof LOCK_KINDS)[number];

/** The option that chooses the lock (steps 03 to 05). */
export const LOCK_OPTIONS = {
  lock: {
    type: 'string', default: 'mutex', choices: LOCK_KINDS,
    help: 'the lock every command runs under: a mutex, or a read-write lock',
  },
} as const satisfies Record<string, OptionSpec>;

export interface CommandLock {
  /**
   * Runs one command, `run(args)`, holding the lock: the mutex, or the write
   * side for a command that writes (isWrite()) and the read side for one that
   * only reads.
   */
  command(args: Buffer[], run: (args: Buffer[]) => Reply): Reply;
  /** Runs `body` holding the lock: for a write (`writes`) or a read. The mutex does not tell them apart. */
  hold<T>(writes: boolean, body: () => T): T;
  /**
   * Runs `body` holding the lock alone: the mutex, or the write side (EXEC's
   * queue may write, and must exclude readers too: a reader between two of
   * its commands would see it half done). Not re-entrant: `body` must not
   * take the lock again.
   */
  exclusive<T>(body: () => T): T;
}

/** The lock of kind `kind` over `lockWords` (the same words in every thread). */
export function commandLock(kind: LockKind, lockWords: Int32Array): CommandLock {
  if (kind === 'rw') return readWriteCommandLock(new RwLock(lockWords));
  // One command at a time, whatever it is.
  const mutex = new Mutex(lockWords);
  return {
    command: (args, run) => mutex.withLock(() => run(args)),
    hold: (_writes, body) => mutex.withLock(body),
    exclusive: (body) => mutex.withLock(body),
  };
}

/** Readers together, a writer alone: GET, DUMP, DBSIZE... share the read side; POST, PUT, INCR... take the write side. */
export function readWriteCommandLock(lock: RwLock): CommandLock {
  const hold = <T>(writes: boolean, body: () => T): T => (writes ? lock.withWrite(body) : lock.withRead(body));
  return {
    command: (args, run) => hold(isWrite(args), () => run(args)),
    hold,
    exclusive: (body) => lock.withWrite(body),
  };
}

/** `kind` as a LockKind; throws on anything else (a thread's workerData is not type-checked). */
export function lockKind(kind: string): LockKind {
  const known = LOCK_KINDS.find((name) => name === kind);
  if (known === undefined) throw new Error(`unknown lock '${kind}' (known: ${LOCK_KINDS.join(', ')})`);
  return known;
}
