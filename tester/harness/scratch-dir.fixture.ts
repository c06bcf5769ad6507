// For scratch-dir.test.ts: makes data folders the way tests do, says so, and
// once the test has counted them (a line on stdin) ends badly. `throw`: an
// uncaught error; `wait`: nothing, the test sends a signal; `server`: the
// same error while a step 04 server runs on one of the folders.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { start, tempDataDir } from './persistence-suites.ts';

const mode = process.argv[2];
const dirs = [tempDataDir(), tempDataDir()];
writeFileSync(path.join(dirs[0]!, 'something'), 'x');
if (mode === 'server') {
  const server = await start('04', dirs[1]!);
  console.log(`listening on ${server.host}:${server.port}`);
}
console.log(`made ${dirs.join(' ')}`);
process.stdin.once('data', () => {
  if (mode !== 'wait') throw new Error('a failure, on purpose');
});
