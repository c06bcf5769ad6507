// The race single-threaded Node code can have: an `await` between a check and
// its act. No threads, no shared memory - and still a lost update, because
// every `await` lets the event loop run other code (another request's
// handler) before this function continues. docs/race-conditions.md explains
// it; await-race.test.ts shows it, and the fix.
//
//   npx tsx docs/examples/await-race.ts

/** A store whose calls are asynchronous, like a database or a remote cache. */
export class AsyncStore {
  private readonly data = new Map<string, number>();

  async get(key: string): Promise<number | undefined> {
    await roundTrip();
    return this.data.get(key);
  }

  async set(key: string, value: number): Promise<void> {
    await roundTrip();
    this.data.set(key, value);
  }
}

// A request to a database takes a while; here, one turn of the event loop.
const roundTrip = () => new Promise<void>((resolve) => setImmediate(resolve));

/** THE BUG: read, await, write. Other increments run at the `await`. */
export async function increment(store: AsyncStore, key: string): Promise<void> {
  const current = (await store.get(key)) ?? 0; // check...
  await store.set(key, current + 1); // ...act, on a value that may be stale by now
}

/**
 * THE FIX: an async mutex. Each caller waits for the previous one's promise,
 * so the read-await-write sequences run one after another. (Inside one
 * thread, a promise chain is all it takes; across threads, step 03 needs
 * Atomics.)
 */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(critical: () => Promise<T>): Promise<T> {
    const result = this.tail.then(critical);
    this.tail = result.catch(() => {}); // a failure must not block the next caller
    return result;
  }
}

export function incrementLocked(store: AsyncStore, mutex: AsyncMutex, key: string): Promise<void> {
  return mutex.run(() => increment(store, key));
}

// Run as a program: 100 "requests" increment the same counter at once.
if (import.meta.url === `file://${process.argv[1]}`) {
  const racy = new AsyncStore();
  await Promise.all(Array.from({ length: 100 }, () => increment(racy, 'visits')));
  console.log(`without a lock: 100 increments, counter = ${await racy.get('visits')}`);

  const safe = new AsyncStore();
  const mutex = new AsyncMutex();
  await Promise.all(Array.from({ length: 100 }, () => incrementLocked(safe, mutex, 'visits')));
  console.log(`with an AsyncMutex: 100 increments, counter = ${await safe.get('visits')}`);
}
