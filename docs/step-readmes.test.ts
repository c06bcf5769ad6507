import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { listSteps } from '../shared/cli/steps.ts';

// Every step's README teaches the same way, in the same order, and every
// step has exercises with checks (npm run exercise -- NN).

const SECTIONS = ['Task', 'Goals', 'What changed', 'Run it', 'What to observe', 'Tests', 'Exercises', 'Further reading'];

for (const step of listSteps()) {
  it(`step ${step.number}: its README has the course's sections in order, and its exercises have checks`, () => {
    const readme = readFileSync(path.join(step.dir, 'README.md'), 'utf8');
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((match) => match[1]!.trim());
    assert.deepEqual(headings.filter((heading) => SECTIONS.includes(heading)), SECTIONS, `${step.name}/README.md sections`);
    assert.ok(existsSync(path.join(step.dir, 'exercises')), `${step.name} has an exercises/ folder`);
    assert.match(readme, /npm run exercise -- \d\d/, `${step.name}/README.md shows how to check an exercise`);
  });
}
