// CPU cost of one request on the hot path, with no network: parse, execute,
// encode the reply. It feeds a Session 16 pipelined SETs and 16 GETs at a time
// (like `redis-benchmark -P 16`), then single GETs (no pipelining), over
//   - a Map store, as in step 01;
//   - the shared store under the read-write lock, with every write recorded
//     for persistence, as on step 06's event loop.
//
//   npx tsx tester/bench/session-hot-path.ts
//
// Figures are nanoseconds per request on one core; compare runs on one machine.

import { executeCommand, isWrite, type CommandContext } from '../../shared/commands/commands.ts';
import { RwLock } from '../../shared/locks/rwlock.ts';
import { RecordingStore, newSequence } from '../../shared/persistence/recording-store.ts';
import { encodeCommand } from '../../shared/protocol/encode.ts';
import type { Reply } from '../../shared/protocol/reply.ts';
import { Session } from '../../shared/server/session.ts';
import { MapStore } from '../../shared/store/map-store.ts';
import { SharedStore } from '../../shared/store/shared-store.ts';
import type { Store } from '../../shared/store/store.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';
import { stepLine } from '../progress.ts';

exitWhenOutputCloses(); // `| head` ends the command quietly (shared/cli/pipe.ts)

// The progress line (stderr): the loops block the event loop, so it shows the
// measurement under way, drawn between measurements (tester/progress.ts).
const line = stepLine();

function nsPerRequest(session: Session, chunk: Buffer, requestsPerChunk: number, rounds: number, after: () => void): number {
  for (let i = 0; i < rounds / 5; i++) { session.receive(chunk); after(); } // warm up the JIT
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) { session.receive(chunk); after(); }
  return Number(process.hrtime.bigint() - started) / (rounds * requestsPerChunk);
}

function measure(name: string, execute: (args: Buffer[]) => Reply, after: () => void = () => {}): void {
  const session = new Session(execute);
  const pipelined: Buffer[] = [];
  for (let i = 0; i < 16; i++) {
    pipelined.push(encodeCommand(['SET', `key:${(i * 37) % 1000}`, 'xxx']), encodeCommand(['GET', `key:${(i * 13) % 1000}`]));
  }
  line.step(`${name}: 16 SETs and 16 GETs at a time`);
  const pipelinedNs = nsPerRequest(session, Buffer.concat(pipelined), 32, 100_000, after);
  line.step(`${name}: single GETs`);
  const singleNs = nsPerRequest(session, encodeCommand(['GET', 'key:1']), 1, 1_000_000, after);
  line.clear();
  console.log(`${name.padEnd(44)} pipelined ${pipelinedNs.toFixed(0).padStart(5)} ns/request   single GET ${singleNs.toFixed(0).padStart(5)} ns/request`);
}

const context = (store: Store): CommandContext => ({ store, betweenCheckAndAct() {}, workMs: 0, serverInfo: () => ({}) });

const map = context(new MapStore());
measure('Map store (step 01)', (args) => executeCommand(args, map));

const shared = SharedStore.create();
const lock = new RwLock(shared.lockWords);
const recording = new RecordingStore(shared, newSequence(1));
const locked = context(recording);
measure('shared store + rw lock + recording (step 06)', (args) => (isWrite(args)
  ? lock.withWrite(() => executeCommand(args, locked))
  : lock.withRead(() => executeCommand(args, locked))), () => recording.takeTasks());
