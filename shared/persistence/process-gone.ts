import { existsSync, readFileSync } from 'node:fs';

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
  try {
    // Field 3 of /proc/PID/stat is the state; Z is a zombie.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    // Without /proc (not Linux) the signal's answer stands: it runs. With
    // /proc, the process ended between the two questions.
    return existsSync('/proc/self/stat');
  }
}
