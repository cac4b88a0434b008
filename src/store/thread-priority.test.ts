import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { BACKGROUND_NICE, currentThreadId, lowerThreadPriority, threadNice } from './thread-priority.ts';

describe('background thread priority', {
  skip: process.platform !== 'linux' && 'per-thread nice values are Linux',
}, () => {
  it('lowers the calling worker thread only, never the main thread', async () => {
    const mainBefore = threadNice(process.pid);
    assert.equal(typeof mainBefore, 'number');
    // The main thread is refused.
    assert.equal(lowerThreadPriority(), false);
    assert.equal(threadNice(process.pid), mainBefore);
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', (url) => import(url).then((m) => {
         const lowered = m.lowerThreadPriority();
         parentPort.postMessage({ lowered, tid: m.currentThreadId() });
         parentPort.once('message', () => process.exit(0));
       }));`,
      { eval: true },
    );
    try {
      worker.postMessage(new URL('./thread-priority.ts', import.meta.url).href);
      const { lowered, tid } = await new Promise<{ lowered: boolean; tid: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      assert.equal(lowered, true);
      assert.notEqual(tid, process.pid);
      assert.notEqual(tid, currentThreadId());
      assert.equal(threadNice(tid), BACKGROUND_NICE, "the worker's own nice value");
      assert.equal(threadNice(process.pid), mainBefore, "the main thread's is unchanged");
    } finally {
      worker.postMessage('exit');
      await new Promise((r) => worker.once('exit', r));
    }
  });
});
