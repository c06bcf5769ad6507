// docs/protocol.md lists every command the servers accept, with its replies:
// the command table (shared/commands), the connection's commands
// (ClientState), QUIT, and step 06's replication commands (answered in
// replication/role.ts and primary.ts before the table). A command added in
// code and not in the doc, or named in the doc and gone from the code, fails.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COMMANDS } from '../shared/commands/commands.ts';
import { CONNECTION_COMMAND_NAMES } from '../shared/server/client-state.ts';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** Names step 06's replication answers: `case 'PSYNC':` in primary.ts, `name === 'ROLE'` in role.ts. */
function replicationCommands(): string[] {
  const primary = read('../steps/06-worker-pool/replication/primary.ts');
  const answer = primary.slice(primary.indexOf('  answer(args'), primary.indexOf('  private replconf('));
  const role = read('../steps/06-worker-pool/replication/role.ts');
  const names = [...answer.matchAll(/case '([A-Z]+)'/g), ...role.matchAll(/name === '([A-Z]+)'/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

/** Command names the doc's command tables give (the first word of each backticked form in a row's first cell). */
function documentedCommands(): Set<string> {
  const text = read('./protocol.md');
  const section = text.slice(text.indexOf('\n## Commands'), text.indexOf('\n## Limits'));
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const firstCell = /^\| (.*?) \|/.exec(line)?.[1];
    if (firstCell === undefined) continue;
    for (const form of firstCell.matchAll(/`([A-Z]+)[ `]/g)) names.add(form[1]!);
  }
  return names;
}

test('docs/protocol.md: every command in code is listed with its replies, and every listed command is in code', () => {
  const inCode = new Set([...Object.keys(COMMANDS), ...CONNECTION_COMMAND_NAMES, 'QUIT', ...replicationCommands()]);
  const inDoc = documentedCommands();
  assert.ok(replicationCommands().includes('PSYNC'), 'the replication commands were found in primary.ts');
  const missing = [...inCode].filter((name) => !inDoc.has(name)).sort();
  const gone = [...inDoc].filter((name) => !inCode.has(name)).sort();
  assert.deepEqual(missing, [], `commands the server accepts that docs/protocol.md does not list: ${missing.join(', ')}`);
  assert.deepEqual(gone, [], `commands docs/protocol.md lists that the server does not have: ${gone.join(', ')}`);
});
