// Waiting in a test: for a condition, with a deadline, never a sleep. Every
// test and suite of the course waits through this one function.

export interface UntilOptions {
  /** What to add to the failure: the last reply, a log... */
  detail?: () => string;
}

/**
 * Resolves once `condition()` is true (it may be async: it is awaited).
 * Rejects after `limitMs` with `timed out after N ms waiting: WHAT`, so
 * that a condition that never comes fails the test instead of hanging it.
 *
 * It asks again at every turn of the event loop for the first 100 ms (a
 * thread's counter, a reply on its way: answered at once), then every 20 ms,
 * so that a long wait (a process restarting, a log rewrite) does not spin a
 * core the server under test needs.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 20_000,
  options: UntilOptions = {},
): Promise<void> {
  const started = Date.now();
  const deadline = started + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const detail = options.detail ? `:\n${options.detail()}` : '';
      throw new Error(`timed out after ${limitMs} ms waiting: ${what}${detail}`);
    }
    await new Promise((resolve) => (Date.now() - started < 100 ? setImmediate(resolve) : setTimeout(resolve, 20)));
  }
}
