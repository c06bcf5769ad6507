import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { HAVE_PROC, allPids, bootId, cpuTicks, memoryBytes, processState, startTicks, statFields } from './proc.ts';

// On Linux each figure is read; of a process that is gone (and, on a system
// without /proc, of every process) each is null instead of an exception.

test('proc: this process\'s figures on Linux; null for a process that is gone', { skip: !HAVE_PROC && 'no /proc here (not Linux)' }, () => {
  assert.equal(statFields(process.pid)?.[1], String(process.ppid), 'the second field is the parent\'s pid');
  assert.match(processState(process.pid) ?? '', /^[RS]$/);
  assert.ok((cpuTicks(process.pid) ?? -1) >= 0);
  assert.match(startTicks(process.pid) ?? '', /^\d+$/);
  assert.ok((memoryBytes('self', 'VmRSS') ?? 0) > 1024 * 1024, 'a Node process holds more than 1 MB');
  assert.ok((memoryBytes(process.pid, 'VmHWM') ?? 0) >= (memoryBytes(process.pid, 'VmRSS') ?? Infinity) / 2);
  assert.match(bootId() ?? '', /^[0-9a-f-]{36}$/);
  assert.ok(allPids().includes(process.pid));

  const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const pid = Number(gone.stdout.trim());
  assert.equal(statFields(pid), null);
  assert.equal(processState(pid), null);
  assert.equal(cpuTicks(pid), null);
  assert.equal(memoryBytes(pid, 'VmRSS'), null);
});
