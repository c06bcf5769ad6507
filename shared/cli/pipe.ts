// Every command the course offers may have its output piped into a reader
// that stops early: `npm run diff -- 05 06 | head`. Once the reader is gone, a
// write fails with EPIPE, which Node reports as an unhandled 'error' event on
// process.stdout: a crash with a stack trace. (Node ignores SIGPIPE, the
// signal that quietly ends C programs in the same case.)

/**
 * For commands that run and end (diff, the tester, benchmarks...): when the
 * reader of stdout or stderr goes away, stop at once and quietly (exit status
 * 0: nobody is left to read a complaint). 'exit' handlers still run, so the
 * servers a command started stop with it.
 */
export function exitWhenOutputCloses(): void {
  onClosedOutput(() => process.exit(0), true);
}

/**
 * For servers: their stdout carries one line (`listening on HOST:PORT`) and
 * stderr the log. A reader that stops early (`npm run step -- 01 | head -1`)
 * must not stop the server: the clients are still being served. (A tool that
 * also loads the server's modules, and so this, still exits: the tool's
 * choice wins.)
 */
export function serveOnWhenOutputCloses(): void {
  onClosedOutput(() => {}, false);
}

let whenClosed: (() => void) | null = null;

function onClosedOutput(then: () => void, override: boolean): void {
  if (whenClosed === null) {
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
        whenClosed!();
      });
    }
  }
  if (whenClosed === null || override) whenClosed = then;
}
