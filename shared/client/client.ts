// The interactive client, one program for every step.
//
//   npm run client -- --port 65432          a prompt (history, help, exit)
//   npm run client -- GET k                 one command, then exit
//   printf 'POST a 1\nGET a\n' | npm run client   commands from standard input
//
// Arguments are words; double quotes group words, so values may hold spaces:
//   POST greeting "hello world"
// Exit status: 0 when every command got a reply that is not an error, 1 when
// one got an error reply, 2 when the server could not be reached or went away.

import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseOptions } from '../cli/options.ts';
import { COMMANDS } from '../commands/commands.ts';
import { CONNECTION_HELP } from '../server/client-state.ts';
import { splitInline } from '../protocol/request-parser.ts';
import type { Reply } from '../protocol/reply.ts';
import { Connection, ConnectionClosedError } from './connection.ts';
import { formatReply } from './format.ts';
import { exitWhenOutputCloses } from '../cli/pipe.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

const { values: options, positionals } = parseOptions(
  {
    host: { type: 'string', default: '127.0.0.1', help: 'server address' },
    port: { type: 'number', default: 65432, min: 1, max: 65535, help: 'server port' },
  },
  'npm run client -- [--host H] [--port P] [COMMAND ARGS...]',
);
const HISTORY_FILE = path.join(homedir(), '.kv_client_history');
const target = `${options.host}:${options.port}`;

let connection: Connection | null = null;
let sawErrorReply = false;

async function connect(): Promise<Connection> {
  if (connection && !connection.closed) return connection;
  const opened = await Connection.open(options.host, options.port);
  opened.onUnsolicited = (reply) => console.log(`\n${describeNotice(reply)}`);
  opened.onClose = (reason) => {
    if (quitting) return;
    const why = reason instanceof ConnectionClosedError ? '' : ` (${reason.message})`;
    console.log(`\nthe server at ${target} closed the connection${why}`);
  };
  connection = opened;
  return opened;
}

let quitting = false;

async function disconnect(): Promise<void> {
  quitting = true;
  if (connection) await connection.close();
}

/** Runs one line typed or piped by the user; false means the user is done. */
async function runLine(line: string): Promise<boolean> {
  // Split the line's UTF-8 bytes exactly as the server splits an inline command.
  const words = splitInline(Buffer.from(line, 'utf8').toString('latin1'));
  if (words === null) {
    console.log('(error) a quote is never closed');
    return true;
  }
  return runWords(words.map((word) => Buffer.from(word, 'latin1')));
}

async function runWords(words: Buffer[]): Promise<boolean> {
  if (words.length === 0) return true;
  const name = words[0]!.toString('latin1').toUpperCase();
  if (name === 'EXIT' || name === 'QUIT') {
    if (name === 'QUIT' && connection && !connection.closed) {
      quitting = true;
      await connection.send('QUIT').catch(() => {});
    }
    return false;
  }
  if (name === 'HELP' && words.length === 1) {
    console.log(helpText());
    return true;
  }
  const reply = await (await connect()).send(...words);
  if (reply.type === 'error') sawErrorReply = true;
  console.log(formatReply(reply, name));
  return true;
}

function helpText(): string {
  const rows = [
    ...Object.values(COMMANDS)
      .filter((spec) => !spec.usage.startsWith('COMMAND') && !spec.usage.startsWith('CONFIG'))
      .map((spec) => [spec.usage, spec.summary] as const),
    ...CONNECTION_HELP,
  ].map(([usage, summary]) => `  ${usage.padEnd(24)} ${summary}`);
  return [
    'Commands (names in any case; use double quotes for values with spaces):',
    ...rows,
    `  ${'exit'.padEnd(24)} leave the client (QUIT also asks the server to close)`,
    '',
    'Replies: OK; (nil) when a key is absent; (error) CODE: reason.',
  ].join('\n');
}

/** A message the server sent without being asked, in plain words. */
function describeNotice(reply: Reply): string {
  if (reply.type === 'error' && reply.code === 'SHUTTING_DOWN') {
    return `the server is shutting down: ${reply.message || 'it will close this connection'}`;
  }
  return `the server says: ${formatReply(reply)}`;
}

function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 500);
  } catch {
    return [];
  }
}

async function interactive(): Promise<void> {
  await connect();
  console.log(`connected to ${target}; type help for the commands, exit to leave`);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: `${target}> `,
    history: loadHistory(),
    historySize: 500,
  });
  rl.prompt();
  for await (const line of rl) {
    if (line.trim()) {
      try {
        appendFileSync(HISTORY_FILE, `${line}\n`);
      } catch {
        // No history file (read-only home): the prompt works without it.
      }
    }
    try {
      if (!(await runLine(line))) break;
    } catch (caught) {
      console.log(`(error) ${(caught as Error).message}`);
    }
    rl.prompt();
  }
  rl.close();
}

async function script(lines: AsyncIterable<string>): Promise<void> {
  for await (const line of lines) {
    if (!(await runLine(line))) break;
  }
}

try {
  if (positionals.length > 0) {
    // One command from the command line: the shell has already split the words.
    await runWords(positionals.map((word) => Buffer.from(word, 'utf8')));
  } else if (!process.stdin.isTTY) {
    await script(createInterface({ input: process.stdin }));
  } else {
    await interactive();
  }
  await disconnect();
  process.exit(sawErrorReply ? 1 : 0);
} catch (caught) {
  console.error(`error: ${(caught as Error).message}`);
  process.exit(2);
}
