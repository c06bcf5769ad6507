import { HAVE_PROC, processState } from '../os/proc.ts';

/**
 * True when no process `pid` is running. A zombie (exited, not yet reaped by
 * its parent) counts as gone: it runs no code and holds no file open.
 */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
  } catch (caught) {
    // EPERM: it exists, but belongs to another user.
    return (caught as NodeJS.ErrnoException).code !== 'EPERM';
  }
  const state = processState(pid);
  // Without /proc (not Linux) the signal's answer stands: it runs. With
  // /proc and no state, the process ended between the two questions.
  if (state === null) return HAVE_PROC;
  return state === 'Z';
}
