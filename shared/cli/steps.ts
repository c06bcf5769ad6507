import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

// Finds the course's steps on disk: `03` or `03-lock` -> steps/03-lock.

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const STEPS_DIR = path.join(ROOT, 'steps');

export interface StepInfo {
  /** `03-lock` */
  name: string;
  /** `03` */
  number: string;
  dir: string;
  server: string;
}

export function listSteps(): StepInfo[] {
  return readdirSync(STEPS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d\d-/.test(entry.name))
    .map((entry) => ({
      name: entry.name,
      number: entry.name.slice(0, 2),
      dir: path.join(STEPS_DIR, entry.name),
      server: path.join(STEPS_DIR, entry.name, 'server.ts'),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The step named `03`, `3` or `03-lock`; throws with the list of steps otherwise. */
export function findStep(name: string): StepInfo {
  const wanted = /^\d$/.test(name) ? `0${name}` : name;
  const steps = listSteps();
  const step = steps.find((s) => s.name === wanted || s.number === wanted);
  if (!step) {
    throw new Error(`no step '${name}'; the steps are: ${steps.map((s) => s.name).join(', ')}`);
  }
  return step;
}
