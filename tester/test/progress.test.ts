import { mock, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stepLine } from '../progress.ts';
import { runWithProgress } from '../course/run-with-progress.ts';

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

// stepLine, on mocked clocks (Date and setInterval), so that 7 s take no time.
function mockedStepLine(t: TestContext, terminal: boolean) {
  mock.timers.enable({ apis: ['Date', 'setInterval'] });
  t.after(() => mock.timers.reset());
  const stream = collector(terminal);
  return { stream, line: stepLine(stream as unknown as NodeJS.WriteStream) };
}

test('stepLine on a terminal: quiet for 2 s, then the step and its seconds; the next step at once; clear() erases it and stops the timer', (t) => {
  const { stream, line } = mockedStepLine(t, true);
  line.step('run 1/2');
  mock.timers.tick(1000);
  assert.equal(stream.text, '', 'nothing in the first two seconds');
  mock.timers.tick(1000);
  assert.equal(stream.text, '\r\x1b[Krun 1/2: 2 s');
  mock.timers.tick(500);
  line.step('run 2/2', () => 'step 06');
  assert.equal(stream.text, '\r\x1b[Krun 1/2: 2 s\r\x1b[Krun 2/2', 'a new step is drawn when step() is called');
  mock.timers.tick(1000);
  const text = () => stream.text; // (read afresh: assert.equal narrows stream.text's type)
  assert.equal(text(), '\r\x1b[Krun 1/2: 2 s\r\x1b[Krun 2/2\r\x1b[Krun 2/2: 1 s, step 06', 'its own seconds, and the detail');
  line.clear();
  assert.ok(text().endsWith('run 2/2: 1 s, step 06\r\x1b[K'), 'erased');
  const erased = text();
  mock.timers.tick(5000);
  assert.equal(text(), erased, 'no line after clear()');
});

test('stepLine in a log: nothing for 5 s, then a plain line at most every 5 s, and clear() writes nothing', (t) => {
  const { stream, line } = mockedStepLine(t, false);
  line.step('writes 100/300');
  mock.timers.tick(5000);
  line.step('writes 200/300'); // within 5 s of the last line: left out
  mock.timers.tick(4000);
  line.step('writes 300/300');
  line.clear();
  assert.equal(stream.text, 'writes 100/300: 5 s\n');
});

// Every benchmark, and every other command that can run for minutes (npm run
// bench*, figures, screenshots, exercise, loadgen, compare, tester), shows a
// progress line: its file calls stepLine, liveLine or progressTicker
// (../progress.ts), or runWithProgress (../course/run-with-progress.ts). Each
// file of a bench folder counts, unless it is a module of helpers that no one
// runs (it says no `npx tsx` line of its own, and exports). No benchmark is
// excused for being short: every one of them runs for more than 2 s here
// (growable-views, the shortest, 6-12 s on this 2-core machine).

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PROGRESS = /import \{[^}]*\b(stepLine|liveLine|progressTicker|runWithProgress)\b[^}]*\} from '[^']*\/(progress|run-with-progress)\.ts'/;

function showsProgress(source: string): boolean {
  const imported = PROGRESS.exec(source);
  return imported !== null && new RegExp(`\\b${imported[1]}\\(`).test(source.slice(imported.index + imported[0].length));
}

test('every benchmark and every long command has a progress line', () => {
  const benches = ['tester/bench', ...readdirSync(path.join(ROOT, 'steps')).map((step) => `steps/${step}/bench`)]
    .filter((folder) => existsSync(path.join(ROOT, folder)))
    .flatMap((folder) => readdirSync(path.join(ROOT, folder)).filter((file) => file.endsWith('.ts')).map((file) => `${folder}/${file}`));
  const scripts: Record<string, string> = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;
  const commands = Object.entries(scripts)
    .filter(([name]) => /^(bench|figures|screenshots|exercise|loadgen|compare|tester)/.test(name))
    .map(([, command]) => /tsx (\S+\.ts)/.exec(command)?.[1])
    .filter((file): file is string => file !== undefined);
  assert.ok(benches.length >= 20 && commands.length >= 8, `found ${benches.length} benchmarks and ${commands.length} commands`);
  const missing: string[] = [];
  const helpers: string[] = [];
  for (const file of [...new Set([...benches, ...commands])]) {
    const source = readFileSync(path.join(ROOT, file), 'utf8');
    if (!source.includes(`npx tsx ${file}`) && !commands.includes(file) && /^export /m.test(source)) {
      helpers.push(file);
      continue;
    }
    const shows = showsProgress(source);
    if (!shows) missing.push(file);
  }
  assert.deepEqual(missing, [], 'these run for more than 2 s with no progress line (tester/progress.ts)');
  assert.deepEqual(helpers, ['steps/06-worker-pool/bench/servers.ts'], 'the modules of helpers, which no one runs');
});
