/**
 * The HL7 parse figure's loop, run in a worker thread of its own (bench/scenarios/hl7.ts): a fresh
 * V8 isolate, so the figure is the parser's and not the state of the bench process's heap and
 * inline caches after the scenarios before it (the same code measured 137,736 msg/s in the first
 * scenario of a run and 87,871 in a later one).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseHl7 } from '../src/core/hl7/index.ts';
import { benchOru } from './scenarios/hl7.ts';

const { messages } = workerData as { messages: number };
const pool = Array.from({ length: 256 }, (_, i) => benchOru(i, 'P'));
// Warm-up long enough for V8's optimising tier: with 5,000 messages a quick run (50,000) timed
// mostly baseline code and reported half the rate of a full run.
for (let i = 0; i < 50_000; i++) parseHl7(pool[i % pool.length]!);
let segments = 0;
const t0 = performance.now();
for (let i = 0; i < messages; i++) {
  const r = parseHl7(pool[i % pool.length]!);
  if (r.ok) segments += r.value.segments.length;
}
const seconds = (performance.now() - t0) / 1000;
parentPort!.postMessage({ messages, seconds, segments, bytesPerMessage: pool[0]!.length });
