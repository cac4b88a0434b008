import { AstmInstrumentClient } from './astm-instrument-client.ts';

/** Options for {@link measureAstmThroughput}. */
export interface AstmThroughputOptions {
  readonly host: string;
  readonly port: number;
  /** Messages to send (default 50). */
  readonly messages?: number;
  /** R records per message (default 20). */
  readonly resultsPerMessage?: number;
  /** `per-message` (default): ENQ … EOT around each message; `single`: all messages in one session. */
  readonly sessions?: 'per-message' | 'single';
  /** H-5.1 of the generated messages (default `BENCH-ANALYZER`). */
  readonly sender?: string;
  /** Prefix of the generated sample ids, to keep runs apart (default `B<time>`). */
  readonly samplePrefix?: string;
}

/** What {@link measureAstmThroughput} measured. */
export interface AstmThroughput {
  readonly messages: number;
  readonly results: number;
  readonly ms: number;
  readonly resultsPerSecond: number;
  readonly messagesPerSecond: number;
}

/**
 * A synthetic result message: H, P, O (sample `<prefix>-<i>`), `results` R records with numeric
 * values, UCUM units, a reference range and a flag, L.
 */
export function astmThroughputMessage(i: number, results: number, sender: string, samplePrefix: string): string[] {
  const records = [
    `H|\\^&|||${sender}^1.0^SN1|||||||P|1|20250101120000`,
    `P|1||PID${i}`,
    `O|1|${samplePrefix}-${i}||^^^GLU|R||20250101115500||||N||||SER||||||||||F`,
  ];
  for (let r = 1; r <= results; r++) {
    records.push(
      `R|${r}|^^^T${r}|${(4 + ((i * 7 + r) % 50) / 10).toFixed(1)}|mmol/L|3.5 - 6.0|N||F||OP||20250101120000`,
    );
  }
  records.push('L|1|N');
  return records;
}

/**
 * Sends generated result messages over one connection to an ASTM listener and measures
 * acknowledged results per second: each message counts once its last frame was ACKed, i.e. after
 * the listener committed it (store-then-ACK). Exposed for `bench/`.
 */
export async function measureAstmThroughput(o: AstmThroughputOptions): Promise<AstmThroughput> {
  const messages = o.messages ?? 50;
  const per = o.resultsPerMessage ?? 20;
  const sender = o.sender ?? 'BENCH-ANALYZER';
  const prefix = o.samplePrefix ?? `B${Date.now()}`;
  const client = await AstmInstrumentClient.connect({ host: o.host, port: o.port });
  try {
    const list = Array.from({ length: messages }, (_, i) => astmThroughputMessage(i, per, sender, prefix));
    const start = performance.now();
    let delivered: boolean[];
    if ((o.sessions ?? 'per-message') === 'single') delivered = await Promise.all(list.map((m) => client.send(m)));
    else {
      delivered = [];
      for (const m of list) delivered.push(await client.send(m));
    }
    const ms = performance.now() - start;
    if (delivered.includes(false)) throw new Error('a message was not acknowledged');
    return {
      messages,
      results: messages * per,
      ms,
      resultsPerSecond: (messages * per * 1000) / ms,
      messagesPerSecond: (messages * 1000) / ms,
    };
  } finally {
    client.close();
  }
}
