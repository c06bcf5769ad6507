// A test file that would never end on its own (for test-runner.test.ts): one
// test passes but leaves a server listening, the next waits forever.
import { it } from 'node:test';
import net from 'node:net';

it('passes, and leaves a listening server behind', () => {
  net.createServer().listen(0, '127.0.0.1');
});

it('waits for something that never comes', async () => {
  await new Promise(() => {});
});
