// `npm run update:lessons`: brings each step README's lesson pointers and
// quoted diff stat up to date after the code moved (docs/lesson-pointers.test.ts
// checks them and names this command when they are stale).
//
// A pointer keeps its quoted code: when that code is on exactly one line of
// its file, the pointer's line number (and its link's #L anchor) become that
// line's; when it is on none or on several, the pointer is left as it is and
// named, for a person to choose. A diff stat block gets what
// `npm run diff -- N-1 N --stat --code` prints now.

import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../shared/cli/steps.ts';

const POINTER = /^(\*\*Lesson pointer:\*\* \[`)([^`:]+):(\d+)(`\]\([^)#]+#L)(\d+)(\).*)$/;
const STAT = /```console\n\$ npm run diff -- (\d\d \d\d --stat --code)\n[\s\S]*?```/g;

let problems = 0;
for (const step of readdirSync(path.join(ROOT, 'steps')).filter((name) => /^\d\d-/.test(name)).sort()) {
  const readme = path.join('steps', step, 'README.md');
  const before = readFileSync(path.join(ROOT, readme), 'utf8');
  const lines = before.split('\n');
  lines.forEach((text, i) => {
    const match = POINTER.exec(text);
    const code = /^`(.+)`$/.exec(lines[i + 1] ?? '')?.[1];
    if (match === null || code === undefined) return;
    const file = match[2]!;
    const at = readFileSync(path.join(ROOT, file), 'utf8').split('\n')
      .flatMap((line, n) => (line.trim() === code ? [n + 1] : []));
    if (at.length !== 1) {
      problems++;
      console.error(`${readme}:${i + 1}: \`${code}\` is on ${at.length === 0 ? 'no line' : `lines ${at.join(', ')}`} of ${file}: choose by hand`);
      return;
    }
    lines[i] = `${match[1]}${file}:${at[0]}${match[4]}${at[0]}${match[6]}`;
  });
  const after = lines.join('\n').replace(STAT, (_block, args: string) => {
    const result = spawnSync('npm', ['run', '-s', 'diff', '--', ...args.split(' '), '--color', 'never'], { cwd: ROOT, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`npm run diff -- ${args}: ${result.stderr}`);
    return `\`\`\`console\n$ npm run diff -- ${args}\n${result.stdout.trimEnd()}\n\`\`\``;
  });
  if (after !== before) {
    writeFileSync(path.join(ROOT, readme), after);
    console.log(`updated ${readme}`);
  }
}
process.exitCode = problems > 0 ? 1 : 0;
