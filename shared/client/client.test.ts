import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ROOT } from '../cli/steps.ts';
import { launchStep, type RunningServer } from '../../tester/harness/launch.ts';

// The client as people and scripts use it: one-shot, piped, and with no server.

function runClient(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'shared/client/client.ts', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('client', () => {
  let server: RunningServer;
  before(async () => {
    server = await launchStep('01', { args: ['--quiet'] });
  });
  after(() => server.stop());

  it('runs one command from its arguments, a value with spaces included', async () => {
    const port = String(server.port);
    assert.deepEqual(await runClient(['--port', port, 'POST', 'one-shot', 'hello world']), { code: 0, stdout: 'OK\n', stderr: '' });
    assert.equal((await runClient(['--port', port, 'GET', 'one-shot'])).stdout, 'hello world\n');
  });

  it('shows INFO as its field:value lines', async () => {
    const result = await runClient(['--port', String(server.port), 'INFO']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^# Server\nstep:01-tcp\n(?:[a-z_0-9]+:.*\n)+(?:\n# Keyspace\n(?:db0:keys=\d+,expires=0,avg_ttl=0\n)?)?$/);
  });

  it('shows errors by their code and exits 1', async () => {
    const result = await runClient(['--port', String(server.port), 'PUT', 'never-created', 'x']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "(error) NOT_FOUND: key 'never-created' does not exist\n");
  });

  it('runs commands piped on standard input, and shows DUMP as a table', async () => {
    const result = await runClient(
      ['--port', String(server.port)],
      'DEL piped:a piped:b\nPOST piped:a 1\nPOST piped:b "two words"\nINCR piped:a\nGET piped:b\nPOST "open\n',
    );
    assert.equal(result.stdout, '(integer) 0\nOK\nOK\n(integer) 2\ntwo words\n(error) a quote is never closed\n');
    const dump = await runClient(['--port', String(server.port), 'DUMP']);
    assert.match(dump.stdout, /^key +\| value\n/);
    assert.match(dump.stdout, /\npiped:b +\| two words\n/);
  });

  it('says clearly when no server is listening, and exits 2', async () => {
    const stopped = await launchStep('01', { args: ['--quiet'] });
    await stopped.stop();
    const result = await runClient(['--port', String(stopped.port), 'PING']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no server is listening on 127\.0\.0\.1:\d+/);
  });
});
