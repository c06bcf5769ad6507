import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { runWithProgress } from './run-with-progress.ts';

// The progress line of a run longer than two seconds, as a terminal gets it,
// around a child's output; and a child that runs past its time limit.

function collector(isTTY: boolean): Writable & { text: string } {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      stream.text += String(chunk);
      done();
    },
  }) as Writable & { text: string; isTTY: boolean };
  stream.text = '';
  stream.isTTY = isTTY;
  return stream;
}

test('runWithProgress: a quiet child past 2 s gets a progress line on a terminal, erased before its output', { timeout: 30_000 }, async () => {
  const progress = collector(true);
  const stdout = collector(false);
  // The child stays quiet for 3.2 s (the run under test must be longer than 2 s), then prints.
  const result = await runWithProgress('exercise demo', process.execPath, ['-e', 'setTimeout(() => console.log("done"), 3200)'], {
    progress: progress as unknown as NodeJS.WriteStream, stdout, timeoutMs: 20_000,
  });
  assert.deepEqual(result, { status: 0, signal: null, timedOut: false });
  assert.equal(stdout.text, 'done\n');
  assert.match(progress.text, /^\r\x1b\[Kexercise demo: [23] s/, 'nothing before 2 s, then the line');
  assert.ok(progress.text.endsWith('\r\x1b[K'), 'the line is erased at the end');
});

test('runWithProgress: a child that runs past timeoutMs is killed and says so', { timeout: 30_000 }, async () => {
  const result = await runWithProgress('slow', process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {
    progress: collector(false) as unknown as NodeJS.WriteStream, timeoutMs: 300,
  });
  assert.equal(result.timedOut, true);
  assert.equal(result.signal, 'SIGKILL');
});
