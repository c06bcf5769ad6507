import { isWrite } from '../commands/commands.ts';
import type { Reply } from '../protocol/reply.ts';
import type { StoreAccess } from '../server/client-state.ts';
import { Mutex } from './mutex.ts';
import { RwLock } from './rwlock.ts';

// What stands between a command and the shared store: nothing (step 02), a
// mutex, or a read-write lock (step 03). This is the whole difference between
// a server that races and one that does not.
//
// The lock is not a JavaScript object that threads share (they cannot share
// objects): it is a few Int32 words in shared memory - here the spare words of
// the store's own buffer, `store.lockWords` - and every thread wraps the same
// words in its own Mutex or RwLock object. Same words, same lock.
//
// A whole command runs under the lock, not each store call: POST is "get,
// then set", and only holding the lock across both makes the pair atomic.

export const LOCK_KINDS = ['none', 'mutex', 'rw'] as const;
export type LockKind = (typeof LOCK_KINDS)[number];

export type RunCommand = (args: Buffer[]) => Reply;

export function guardCommands(kind: LockKind, lockWords: Int32Array, run: RunCommand): RunCommand {
  switch (kind) {
    case 'none':
      // Every thread runs its commands on the store whenever it likes.
      return run;
    case 'mutex': {
      // One command at a time, whatever it is.
      const mutex = new Mutex(lockWords);
      return (args) => mutex.withLock(() => run(args));
    }
    case 'rw': {
      // Readers together, a writer alone: GET, DUMP, DBSIZE... share the
      // read side; POST, PUT, INCR... take the write side (isWrite()).
      const lock = new RwLock(lockWords);
      return (args) => (isWrite(args) ? lock.withWrite(() => run(args)) : lock.withRead(() => run(args)));
    }
  }
}

/**
 * How a transaction (EXEC) runs several commands under the same lock, taken
 * once: the mutex, or the write side of the read-write lock (a transaction
 * may write, and must exclude readers too: a reader between two of its
 * commands would see it half done). `run` must be the unguarded command
 * runner: the lock is not re-entrant.
 *
 * Step 02 has no lock, so EXEC there is only a batch: the commands run one
 * after another, and other threads' commands run between them; the check of
 * the watched keys is a check-then-act like POST's, with the same race window
 * (`betweenCheckAndAct`). The tester's WATCH scenario FAILS there for that
 * reason (docs/transactions.md).
 */
export function exclusiveAccess(kind: LockKind, lockWords: Int32Array, run: RunCommand, betweenCheckAndAct: () => void): StoreAccess {
  switch (kind) {
    case 'none':
      return { exclusive: (body) => body(run), betweenCheckAndAct };
    case 'mutex': {
      const mutex = new Mutex(lockWords);
      return { exclusive: (body) => mutex.withLock(() => body(run)) };
    }
    case 'rw': {
      const lock = new RwLock(lockWords);
      return { exclusive: (body) => lock.withWrite(() => body(run)) };
    }
  }
}
