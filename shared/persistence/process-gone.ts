import { readFileSync } from 'node:fs';

/**
 * True when no process `pid` is running. A zombie (exited, not yet reaped by
 * its parent) counts as gone: it runs no code and holds no file open.
 */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
  } catch {
    return true;
  }
  try {
    // Field 3 of /proc/PID/stat is the state; Z is a zombie.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
