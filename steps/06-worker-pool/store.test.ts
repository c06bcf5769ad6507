import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Connection } from '../../shared/client/connection.ts';
import { describeReply } from '../../shared/protocol/reply.ts';
import { killAndWaitForWorkers, start, tempDataDir } from '../../tester/harness/persistence-suites.ts';
import { info } from '../../tester/harness/info.ts';
import { stopAfter } from '../../tester/harness/launch.ts';

// Step 06's store through the server: values far past steps 02-05's 1 KB, a
// big value arriving slowly, the bulk limit, the memory limit and INFO.

/** Resolves with the first `bytes` bytes `socket` receives (or rejects when it closes first). */
function receive(socket: net.Socket, bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.length >= bytes) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
  });
}

describe('step 06: the store', () => {
  it('a 5 MB binary value and a 200 KB key round-trip byte for byte through redis-cli', async () => {
    await stopAfter(await start('06', tempDataDir()), async (server) => {
      const value = randomBytes(5 * 1024 * 1024);
      const cli = (args: string[], input?: Buffer) =>
        execFileSync('redis-cli', ['-p', String(server.port), ...args], { input, maxBuffer: 64 * 1024 * 1024 });
      assert.equal(cli(['-x', 'SET', 'big'], value).toString().trim(), 'OK');
      const back = cli(['GET', 'big']);
      assert.equal(back.length, value.length + 1, 'the value and redis-cli\'s newline');
      assert.ok(back.subarray(0, value.length).equals(value), 'the same bytes');
      const connection = await Connection.open(server.host, server.port);
      const key = 'k'.repeat(200_000);
      assert.equal(describeReply(await connection.send('SET', key, 'v')), 'OK');
      assert.equal(describeReply(await connection.send('GET', key)), '"v"');
      assert.equal(describeReply(await connection.send('DBSIZE')), '(integer) 2');
      await connection.close();
    });
  });

  it('a big SET arriving slowly does not hold up other clients, and arrives whole', async () => {
    await stopAfter(await start('06', tempDataDir()), async (server) => {
      const value = randomBytes(8 * 1024 * 1024);
      const request = Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$${value.length}\r\n`), value, Buffer.from('\r\n')]);
      const slow = net.connect(server.port, server.host);
      await new Promise((resolve) => slow.once('connect', resolve));
      const other = await Connection.open(server.host, server.port);
      // Send the request in eight parts; between parts, the other client is
      // answered (the server is parsing the big value as it comes).
      const parts = 8;
      const step = Math.ceil(request.length / parts);
      const answer = receive(slow, 5);
      for (let p = 0; p < parts; p++) {
        await new Promise<void>((resolve) => slow.write(request.subarray(p * step, (p + 1) * step), () => resolve()));
        if (p < parts - 1) {
          assert.equal(describeReply(await other.send('SET', `k${p}`, 'v')), 'OK', `answered while part ${p + 1} of ${parts} is in`);
          assert.equal(describeReply(await other.send('GET', 'slow')), '(nil)', 'the big value is not there before it is whole');
        }
      }
      assert.equal(await answer, '+OK\r\n');
      const back = await other.send('GET', 'slow');
      assert.ok(back.type === 'bulk' && back.value !== null && back.value.equals(value), 'the 8 MB value, whole');
      slow.destroy();
      await other.close();
    });
  });

  it('--durable: big values sent slowly, with small writes between and behind them, are back byte for byte after SIGKILL and restart', async () => {
    const dir = tempDataDir();
    let server = await start('06', dir, ['--durable']);
    try {
      const other = await Connection.open(server.host, server.port);
      // Bigger than a piece of the log worker's channel (1 MB): the log
      // record refers to the value and goes to the worker process in pieces.
      const values = [randomBytes(3 * 1024 * 1024 + 7), randomBytes(6 * 1024 * 1024 + 1)];
      for (const [n, value] of values.entries()) {
        const request = Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$4\r\nbig${n}\r\n$${value.length}\r\n`), value, Buffer.from('\r\n')]);
        const slow = net.connect(server.port, server.host);
        await new Promise((resolve) => slow.once('connect', resolve));
        const answer = receive(slow, 5);
        const parts = 4;
        const step = Math.ceil(request.length / parts);
        for (let p = 0; p < parts; p++) {
          await new Promise<void>((resolve) => slow.write(request.subarray(p * step, (p + 1) * step), () => resolve()));
          // The other client is answered while the big value is on its way.
          if (p < parts - 1) assert.equal(describeReply(await other.send('SET', `small${n}.${p}`, `v${p}`)), 'OK');
        }
        // Sent with the big value's last bytes, answered (and logged) behind it.
        const behind = other.send('SET', `after${n}`, 'yes');
        assert.equal(await answer, '+OK\r\n');
        assert.equal(describeReply(await behind), 'OK');
        slow.destroy();
      }
      assert.equal(describeReply(await other.send('SET', 'big0', 'small now')), 'OK', 'the first big value overwritten');
      await other.close();
      await killAndWaitForWorkers(server);

      server = await start('06', dir, ['--durable']);
      const back = await Connection.open(server.host, server.port);
      assert.equal(describeReply(await back.send('GET', 'big0')), '"small now"');
      const big = await back.send('GET', 'big1');
      assert.ok(big.type === 'bulk' && big.value !== null && big.value.equals(values[1]!), 'the 6 MB value, byte for byte');
      for (const n of [0, 1]) {
        for (const p of [0, 1, 2]) assert.equal(describeReply(await back.send('GET', `small${n}.${p}`)), `"v${p}"`);
        assert.equal(describeReply(await back.send('GET', `after${n}`)), '"yes"');
      }
      assert.equal(describeReply(await back.send('DBSIZE')), '(integer) 10');
      await back.close();
    } finally {
      await server.stop();
    }
  });

  it('an argument over --proto-max-bulk-len gets a clear error and only that connection closes', async () => {
    await stopAfter(await start('06', tempDataDir(), ['--proto-max-bulk-len', '1mb']), async (server) => {
      const bad = net.connect(server.port, server.host);
      const reply = receive(bad, 10);
      bad.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${2 * 1024 * 1024}\r\n`);
      assert.match(await reply, /^-PROTOCOL_ERROR argument of 2097152 bytes, the limit is 1048576/);
      await new Promise((resolve) => bad.once('close', resolve));
      const good = await Connection.open(server.host, server.port);
      assert.equal(describeReply(await good.send('SET', 'k', Buffer.alloc(1024 * 1024, 1))), 'OK', 'exactly the limit is fine');
      await good.close();
    });
  });

  it('past --max-memory writes get OOM while reads and deletes go on; once memory is freed writes work again; INFO shows it', async () => {
    await stopAfter(await start('06', tempDataDir(), ['--max-memory', '2mb']), async (server) => {
      const connection = await Connection.open(server.host, server.port);
      const value = Buffer.alloc(1000, 7);
      let written = 0;
      let refusal = '';
      for (; written < 5000; written++) {
        const reply = describeReply(await connection.send('SET', `k${written}`, value));
        if (reply !== 'OK') {
          refusal = reply;
          break;
        }
      }
      assert.equal(refusal, "OOM command not allowed when used memory > 'maxmemory'.");
      assert.ok(written > 1000, `${written} values of 1000 bytes fit in 2 MB`);
      assert.equal(describeReply(await connection.send('INCR', 'counter')), refusal, 'every write is refused');
      const read = await connection.send('GET', 'k1');
      assert.ok(read.type === 'bulk' && read.value?.equals(value), 'reads go on');
      const fields = Object.fromEntries(await info(connection));
      assert.equal(fields.maxmemory, String(2 * 1024 * 1024));
      assert.equal(fields.maxmemory_human, '2.00M');
      assert.ok(Number(fields.used_memory) > 2 * 1024 * 1024, `used_memory ${fields.used_memory}`);
      assert.match(fields.used_memory_human!, /^2\.\d\dM$/);
      assert.ok(Number(fields.used_memory_peak) >= Number(fields.used_memory));
      assert.match(fields.mem_fragmentation_ratio!, /^\d+\.\d\d$/);
      assert.equal(fields.db0, `keys=${written},expires=0,avg_ttl=0`);
      const keys = Array.from({ length: 300 }, (_, k) => `k${k}`);
      assert.equal(describeReply(await connection.send('DEL', ...keys)), '(integer) 300', 'deletes go on');
      assert.equal(describeReply(await connection.send('SET', 'again', value)), 'OK', 'writes work again');
      const after = Object.fromEntries(await info(connection));
      assert.ok(Number(after.used_memory) < Number(fields.used_memory), 'used_memory went down');
      assert.equal(after.used_memory_peak, fields.used_memory_peak, 'the peak stays');
      await connection.close();
    });
  });

  it("a list's elements count in used_memory (INFO, --max-memory): pushes add, pops and DEL take away, a restart counts them again", async () => {
    const dir = tempDataDir();
    let server = await start('06', dir, ['--max-memory', '4mb']);
    try {
      let connection = await Connection.open(server.host, server.port);
      const used = async () => Number((await info(connection)).get('used_memory'));
      const empty = await used();
      const element = Buffer.alloc(1000, 5);
      for (let i = 0; i < 10; i++) {
        const elements = Array.from({ length: 100 }, () => element);
        assert.equal(describeReply(await connection.send('RPUSH', 'queue', ...elements)), `(integer) ${100 * (i + 1)}`);
      }
      const full = await used();
      assert.ok(full - empty >= 1000 * 1000, `1,000 elements of 1,000 bytes: used_memory grew by ${full - empty}`);
      assert.ok(full - empty < 1000 * 1200, `and not by much more than their bytes: ${full - empty}`);
      // The limit sees them: 3 MB of strings fit under 4 MB alone, not beside the list.
      const value = Buffer.alloc(1000, 7);
      let refused = -1;
      for (let k = 0; k < 3000 && refused < 0; k++) {
        if (describeReply(await connection.send('SET', `s${k}`, value)) !== 'OK') refused = k;
      }
      assert.ok(refused > 0 && refused < 2900, `the strings were refused (OOM) after ${refused}, the list counted`);
      for (let k = 0; k < refused; k += 500) {
        await connection.send('DEL', ...Array.from({ length: Math.min(500, refused - k) }, (_, j) => `s${k + j}`));
      }
      const popped = await connection.send('LPOP', 'queue', '500');
      assert.ok(popped.type === 'array' && popped.value?.length === 500, 'LPOP queue 500 gave 500 elements');
      const half = await used();
      assert.ok(full - half >= 500 * 1000 && full - half < 500 * 1200, `500 pops gave back ${full - half} bytes`);
      await connection.close();
      await server.stop();
      server = await start('06', dir, []);
      connection = await Connection.open(server.host, server.port);
      const replayed = await used();
      assert.ok(Math.abs(replayed - half) < 100 * 1000, `after a restart the 500 elements count again: ${replayed} against ${half}`);
      assert.equal(describeReply(await connection.send('DEL', 'queue')), '(integer) 1');
      const gone = await used();
      assert.ok(replayed - gone >= 500 * 1000, `DEL gave back ${replayed - gone} bytes`);
      await connection.close();
    } finally {
      await server.stop();
    }
  });
});
