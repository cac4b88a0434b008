import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { frameMllp, MllpFramer } from '../../src/core/hl7/index.ts';
import { freshDatabase } from '../databases.ts';
import type { Figure } from '../figures.ts';
import { fetchJson } from '../load.ts';
import { processCpuMicros, type ServerProcess, startServer } from '../server-process.ts';
import type { ScenarioContext, ScenarioResult } from './harness.ts';

/** The 20 everyday analyses' LOINC codes (10 per message, in turn). */
const ANALYTES = [
  ['2345-7', 'Glucose', 'mmol/L', '3.9-6.1'],
  ['2160-0', 'Creatinine', 'umol/L', '45-90'],
  ['2951-2', 'Sodium', 'mmol/L', '137-145'],
  ['2823-3', 'Potassium', 'mmol/L', '3.5-4.4'],
  ['718-7', 'Hemoglobin', 'mmol/L', '7.3-9.5'],
  ['6690-2', 'Leukocytes', '10*9/L', '3.5-8.8'],
  ['777-3', 'Platelets', '10*9/L', '145-390'],
  ['1988-5', 'CRP', 'mg/L', '0-8'],
  ['1742-6', 'ALAT', 'U/L', '10-45'],
  ['3016-3', 'TSH', 'mIU/L', '0.3-4.0'],
  ['2093-3', 'Cholesterol', 'mmol/L', '0-5'],
  ['2571-8', 'Triglyceride', 'mmol/L', '0.45-2.6'],
  ['4548-4', 'HbA1c', 'mmol/mol', '20-42'],
  ['1751-7', 'Albumin', 'g/L', '36-48'],
  ['17861-6', 'Calcium', 'mmol/L', '2.15-2.51'],
  ['2777-1', 'Phosphate', 'mmol/L', '0.76-1.41'],
  ['1975-2', 'Bilirubin', 'umol/L', '5-25'],
  ['6768-6', 'ALP', 'U/L', '35-105'],
  ['2324-2', 'GGT', 'U/L', '10-45'],
  ['3084-1', 'Urate', 'mmol/L', '0.15-0.35'],
] as const;

/** ORU^R01 number `i`: one order with 10 OBX (NM, units, range, flag), 500 patients in turn, ~1.4 kB. */
export function benchOru(i: number, run = 'B'): Buffer {
  const obx = Array.from({ length: 10 }, (_, k) => {
    const [code, name, unit, range] = ANALYTES[(i + k) % ANALYTES.length]!;
    return `OBX|${k + 1}|NM|${code}^${name}^LN||${(1 + ((i * 7 + k) % 90) / 10).toFixed(1)}|${unit}|${range}|N|||F|||20250101110000`;
  });
  return Buffer.from(
    [
      `MSH|^~\\&|BENCHLAB|BENCHHOSP|DXHUB|REGION|20250101120000||ORU^R01^ORU_R01|${run}${i}|P|2.5.1`,
      `PID|1||${1_000_000 + (i % 500)}^^^BENCHHOSP^MR||Patient${i % 500}^Bench||19700101|F`,
      `OBR|1|PL${run}${i}^BENCHHOSP|FL${run}${i}^BENCHLAB|24323-8^Panel^LN|||20250101110000|||||||||||||||20250101113000||CH|F`,
      ...obx,
      '',
    ].join('\r'),
    'latin1',
  );
}

/** One stop-and-wait sender connection: sends its share of messages, each after the previous ACK. */
function sender(port: number, messages: readonly Buffer[], onAck: (ack: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const framer = new MllpFramer();
    let next = 0;
    const send = () => {
      if (next === messages.length) {
        socket.end();
        resolve();
        return;
      }
      socket.write(frameMllp(messages[next++]!));
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      for (const e of framer.push(chunk)) {
        if (e.kind !== 'message') continue;
        onAck(e.payload.toString('latin1'));
        send();
      }
    });
    socket.on('error', reject);
  });
}

/** (a) parseHl7 alone on the 10-OBX ORU, in a worker thread of this process (a fresh isolate): messages/s. */
async function parseFigures(ctx: ScenarioContext): Promise<{ figure: Figure; detail: Record<string, number> }> {
  const n = ctx.quick ? 50_000 : 200_000;
  const worker = new Worker(new URL('../hl7-parse-worker.ts', import.meta.url), { workerData: { messages: n } });
  const r = await new Promise<{ messages: number; seconds: number; segments: number; bytesPerMessage: number }>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    },
  );
  await worker.terminate();
  if (r.segments !== n * 13) throw new Error(`parse check failed: ${r.segments} segments for ${n} messages`);
  return {
    figure: {
      key: 'hl7.parsePerSecond',
      label: 'HL7 parse, ORU^R01 10 OBX (in-process)',
      value: n / r.seconds,
      unit: 'msg/s',
    },
    detail: { messages: n, seconds: r.seconds, bytesPerMessage: r.bytesPerMessage },
  };
}

/**
 * HL7 v2 ingest. (a) parse alone; (b) end to end: `messages` ORU^R01 (10 OBX each) over MLLP from 8
 * stop-and-wait sender connections to `dxhub serve`; the clock stops when every message is
 * processed (inbox queue empty) and all 10 × messages Observations are searchable.
 */
export async function hl7Scenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const parse = await parseFigures(ctx);
  const messages = ctx.quick ? 2_000 : 20_000;
  const connections = 8;
  const db = await freshDatabase(ctx.dialect);
  let server: ServerProcess | undefined;
  const cleanup = async () => {
    await server?.stop();
    await db.drop();
  };
  const unregister = ctx.onInterrupt(cleanup);
  try {
    server = await startServer(db.url, ctx.serverNodeArgs, { mllp: true });
    const port = server.mllpPort!;
    const all = Array.from({ length: messages }, (_, i) => benchOru(i));
    const codes: Record<string, number> = {};
    // Server CPU (all threads, incl. the outbox consumers sharing its loop): holds on a busy machine.
    const cpu0 = processCpuMicros(server.pid);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: connections }, (_, c) =>
        sender(
          port,
          all.filter((_, i) => i % connections === c),
          (ack) => {
            const code = /\rMSA\|([A-Z]{2})/.exec(ack)?.[1] ?? '?';
            codes[code] = (codes[code] ?? 0) + 1;
          },
        ),
      ),
    );
    const ackSeconds = (performance.now() - t0) / 1000;
    ctx.log(`  ${messages} ACKed in ${ackSeconds.toFixed(1)} s (${JSON.stringify(codes)}); waiting for processing…`);

    // Until processed and searchable; poll the interface health view (queue depth) and the count.
    const limit = ctx.quick ? 600 : 3_600;
    let queue = Number.NaN;
    let stored = 0;
    let lastLog = 0;
    for (;;) {
      const health = await fetchJson<{ totals: { queueDepth: number; deadLetters: number } }>(
        `${server.url}/ops/interfaces`,
      );
      queue = health.totals.queueDepth;
      if (queue === 0) {
        stored = (await fetchJson<{ total: number }>(`${server.url}/fhir/Observation?_summary=count`)).total;
        if (stored >= 10 * messages) break;
      }
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed > limit) break;
      if (elapsed - lastLog > 15) {
        lastLog = elapsed;
        ctx.log(`  ${elapsed.toFixed(0)} s: ${queue} messages still queued`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const totalSeconds = (performance.now() - t0) / 1000;
    const cpu1 = processCpuMicros(server.pid);
    const cpuPerMessage = cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / messages : Number.NaN;
    const processed = messages - (Number.isNaN(queue) ? messages : queue);
    const health = await fetchJson<{ totals: { queueDepth: number; deadLetters: number } }>(
      `${server.url}/ops/interfaces`,
    );
    if (stored < 10 * messages) {
      ctx.log(
        `  ✗ after ${totalSeconds.toFixed(0)} s: ${stored} of ${10 * messages} Observations searchable, ${queue} queued`,
      );
    }
    return {
      figures: [
        parse.figure,
        {
          key: 'hl7.ackPerSecond',
          label: `HL7 over MLLP (${connections} conn): ACKed (stored)`,
          value: messages / ackSeconds,
          unit: 'msg/s',
        },
        {
          key: 'hl7.endToEndPerSecond',
          label: `HL7 over MLLP (${connections} conn): processed and searchable`,
          value: processed / totalSeconds,
          unit: 'msg/s',
        },
        {
          key: 'hl7.observationsPerSecond',
          label: 'HL7 over MLLP: Observations searchable',
          value: stored / totalSeconds,
          unit: 'obs/s',
        },
        {
          key: 'hl7.cpuPerMessage',
          label: 'HL7 over MLLP: server CPU per message (accept + process + consumers)',
          value: cpuPerMessage,
          unit: 'µs',
        },
        { key: 'hl7.deadLetters', label: 'HL7 over MLLP: dead letters', value: health.totals.deadLetters, unit: '' },
      ],
      detail: {
        parse: parse.detail,
        messages,
        connections,
        ackSeconds,
        totalSeconds,
        cpuPerMessageMicros: cpuPerMessage,
        acks: codes,
        observationsStored: stored,
        queueAtEnd: queue,
        deadLetters: health.totals.deadLetters,
        bytesPerMessage: all[0]!.length,
      },
    };
  } catch (e) {
    if (server) ctx.log(`  server log tail:\n${server.stderrTail()}`);
    throw e;
  } finally {
    unregister();
    await cleanup();
  }
}
