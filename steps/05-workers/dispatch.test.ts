import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MapStore } from '../../shared/store/map-store.ts';
import { RecordingStore, newSequence } from '../../shared/persistence/recording-store.ts';
import { replayLogs } from '../../shared/persistence/replay.ts';
import { Persister, type Dispatch } from '../04-ipc-queue/persister.ts';
import { DISPATCHES } from './dispatch.ts';
import { scratchDir } from '../../tester/harness/scratch-dir.ts';

// Step 05's two dispatch strategies, behind step 04's persister: free
// dispatch lets a key's writes reach the log out of order, by-key does not.

// Removed when this test file's process ends, also after a failure (scratch-dir.ts).
const tempDir = () => scratchDir('dispatch-');

function replayed(dataDir: string, workers: number, dispatch: Dispatch) {
  const store = new MapStore();
  const result = replayLogs(dataDir, dispatch.logFiles(workers), store);
  return { store, result };
}

describe('step 05: dispatch to several worker processes', () => {
  for (const name of ['free', 'by-key'] as const) {
    const dispatch = DISPATCHES[name];
    it(`${name} dispatch with 2 workers: ${name === 'free'
      ? 'a key\'s writes reach the log out of order (the hazard)'
      : 'each key\'s writes stay in order'}`, async () => {
      const dir = tempDir();
      const memory = new RecordingStore(new MapStore(), newSequence(1));
      const persister = await Persister.start({
        dataDir: dir, workers: 2, dispatch, capacity: 1000, durable: false, taskCpuMs: 5, firstSeq: 1,
      });
      // One big batch that ends with hot=old, then hot=new alone in the next
      // turn. Free dispatch gives the second batch to the idle worker, which
      // finishes it long before the busy one reaches hot=old (40 x 5 ms).
      for (let i = 0; i < 40; i++) memory.set(Buffer.from(`filler${i}`), Buffer.from('x'));
      memory.set(Buffer.from('hot'), Buffer.from('old'));
      await persister.submit(memory.takeTasks());
      await new Promise((resolve) => setImmediate(resolve)); // the first batch has left
      memory.set(Buffer.from('hot'), Buffer.from('new'));
      await persister.submit(memory.takeTasks());
      await persister.close();
      const { store, result } = replayed(dir, 2, dispatch);
      assert.equal(result.records, 42);
      if (name === 'free') {
        assert.equal(result.outOfOrder, 1);
        assert.deepEqual(store.get(Buffer.from('hot')), Buffer.from('old'), 'replay brings back the older value');
      } else {
        assert.equal(result.outOfOrder, 0);
        assert.deepEqual(store.get(Buffer.from('hot')), Buffer.from('new'));
      }
    });
  }
});
