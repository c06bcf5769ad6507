// How the course runs its node:test files, so that every run ends: `npm test`
// (package.json's test:unit, which passes the same flags), `npm run test:step`
// and `npm run exercise`. A broken server must make tests FAIL with a message,
// never hang.
//
// - TEST_TIMEOUT_MS: each test of the shared suites and of the exercise checks
//   says `{ timeout: TEST_TIMEOUT_MS }`, so the test that hangs fails by name.
// - --test-timeout bounds every other test too. On Node 20 it bounds each test
//   FILE (the runner kills the file and reports "test timed out", without the
//   name of the test that hung); on Node 22 and later, each test. Either way
//   it must be longer than the slowest healthy file (about 25 s alone here).
// - --test-force-exit: once a file's tests are done, its process exits even if
//   a test that failed left a socket open (which would keep it alive forever).
//   Servers launched by a test stop with it (tester/harness/launch.ts).
// Both flags exist from Node 20.14 on.

/** Per test, in the shared suites and the exercise checks. */
export const TEST_TIMEOUT_MS = 30_000;

/** Per file on Node 20, per test on Node 22 and later (see above). */
export const TEST_FILE_TIMEOUT_MS = 600_000;

/** The arguments for `node` that run test files the course's way; the files go after them. */
export function testRunnerArgs(timeoutMs = TEST_FILE_TIMEOUT_MS): string[] {
  return ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${timeoutMs}`, '--test-force-exit'];
}
