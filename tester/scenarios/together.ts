import type { TesterClient } from '../client.ts';

// The start barrier of a contention round. Every client's first request is
// written to its socket in the same turn of the event loop (each `fn` runs
// synchronously up to its first await, and sending writes at once), so the
// requests reach the server as close together as one process can make them.
// The next phase starts only when every client has finished this one.
// Without this, clients drift apart and a race window of a millisecond is
// rarely hit (see docs/race-conditions.md, "The race window, a magnifying glass").

export function together<T>(clients: TesterClient[], fn: (client: TesterClient) => Promise<T>): Promise<T[]> {
  return Promise.all(clients.map(fn));
}
