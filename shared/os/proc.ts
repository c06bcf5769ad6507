import { existsSync, readFileSync, readdirSync } from 'node:fs';

// What Linux tells about a process, read from /proc: the one module that
// reads it (INFO's CPU and memory figures, the log ownership claims, the
// tester's CPU and memory, the tests' and benchmarks' process checks).
//
// Elsewhere (macOS, Windows) there is no /proc: every function here returns
// null, or an empty list, instead of failing, and whoever shows the figure
// writes "n/a" (INFO, the tester). See "What runs where" in the README.

/** Whether this system has Linux's /proc. */
export const HAVE_PROC = existsSync('/proc/self/stat');

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on every Linux Node supports). */
export const TICKS_PER_SECOND = 100;

/**
 * The fields of /proc/PID/stat after the command name (which is in
 * parentheses and may hold spaces): [state, ppid, pgrp, ...], so that field N
 * of the whole line is at index N - 3. Null without /proc, or once the
 * process is gone.
 */
export function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The process's state letter (R running, S sleeping, Z zombie...), or null. */
export function processState(pid: number): string | null {
  return statFields(pid)?.[0] ?? null;
}

/** CPU time the process has used, all its threads, in clock ticks (utime + stime, fields 14 and 15), or null. */
export function cpuTicks(pid: number): number | null {
  const fields = statFields(pid);
  return fields === null ? null : Number(fields[11]) + Number(fields[12]);
}

/** When the process started, in clock ticks since boot (field 22), or null: with the pid, it names one process. */
export function startTicks(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** A memory figure of /proc/PID/status (VmRSS resident now, VmHWM its peak), in bytes, or null. */
export function memoryBytes(pid: number | 'self', name: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The process's command line (its argv: program, then arguments), or null without /proc or once it is gone. */
export function commandLine(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text === '' ? null : text.replace(/\0$/, '').split('\0');
  } catch {
    return null;
  }
}

/** The id of this boot of the machine, or null: process ids and start times count from it. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  } catch {
    return null;
  }
}

/** The ids of every process running now; empty without /proc. */
export function allPids(): number[] {
  if (!HAVE_PROC) return [];
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}
