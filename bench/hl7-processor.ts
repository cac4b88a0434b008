import { FhirService } from '../src/fhir-api/fhir-service.ts';
import { Hl7Inbox } from '../src/ingest/hl7-inbox.ts';
import { Hl7Processor } from '../src/ingest/hl7-processor.ts';
import { openDialect } from '../src/store/dialect/dialect.ts';
import { FhirRepository } from '../src/store/repository.ts';
import { countingDialect, RoundTrips } from './counting-dialect.ts';
import { freshDatabase } from './databases.ts';
import type { Figure } from './figures.ts';
import { backends, cpuSeconds } from './result-pipeline.ts';
import type { ScenarioContext, ScenarioResult } from './scenarios/harness.ts';
import { benchOru } from './scenarios/hl7.ts';

/** One run of the processor alone over `n` stored ORU^R01 (10 OBX): per message and in batches. */
async function measure(ctx: ScenarioContext, n: number, batchWrites: boolean) {
  const db = await freshDatabase(ctx.dialect);
  const unregister = ctx.onInterrupt(() => db.drop());
  const trips = new RoundTrips();
  const repo = await FhirRepository.open(countingDialect(await openDialect(db.url), trips));
  try {
    const inbox = new Hl7Inbox(repo.db);
    const processor = new Hl7Processor({ inbox, service: new FhirService(repo), batchWrites });
    const drain = async () => {
      for (;;) {
        const s = await processor.runOnce();
        if (s.processed + s.failed === 0) return;
      }
    };
    // Warm-up: JIT, statement caches, the validator's definitions.
    for (let i = 0; i < 200; i++) await inbox.accept(benchOru(i, 'W'), 'bench');
    await drain();
    for (let i = 0; i < n; i++) await inbox.accept(benchOru(i), 'bench');
    const server0 = cpuSeconds(await backends(repo));
    const cpu0 = process.cpuUsage();
    trips.reset();
    const t0 = performance.now();
    await drain();
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const statements = trips.total;
    const server1 = cpuSeconds(await backends(repo));
    let serverSeconds = 0;
    for (const [pid, s1] of server1) serverSeconds += s1 - (server0.get(pid) ?? 0);
    const failed = (await inbox.deadLetters(10)).length;
    if (failed > 0) throw new Error(`${failed} messages failed`);
    return {
      perSecond: n / seconds,
      cpuMicrosPerMessage: (cpu.user + cpu.system) / n,
      serverCpuMicrosPerMessage: server1.size > 0 ? (serverSeconds * 1e6) / n : undefined,
      statementsPerMessage: statements / n,
      top: trips
        .top()
        .slice(0, 10)
        .map(([sql, count, ms]) => ({ sql, perMessage: count / n, msPerMessage: ms / n })),
      stats: { ...processor.stats },
    };
  } finally {
    await repo.close();
    unregister();
    await db.drop();
  }
}

/**
 * `--only hl7-processor`: the HL7 processor alone, in-process on fresh databases, over N stored
 * ORU^R01 with 10 OBX (the `hl7` scenario's messages; 1,000 with --quick, 5,000 otherwise): each
 * message through the FHIR transaction path, then the batched writes. Messages/s, CPU of this
 * process and (PostgreSQL on this machine) of the server per message, statements per message —
 * the last two hold on a loaded machine, where wall time does not.
 */
export async function hl7ProcessorScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 1_000 : 5_000;
  const single = await measure(ctx, n, false);
  const batch = await measure(ctx, n, true);
  const figures: Figure[] = [];
  for (const [name, r] of [
    ['per message', single],
    ['batched', batch],
  ] as const) {
    const key = name === 'batched' ? 'batch' : 'single';
    ctx.log(
      `  ${name}: ${r.perSecond.toFixed(0)} msg/s, ${r.cpuMicrosPerMessage.toFixed(0)} µs CPU, ${r.statementsPerMessage.toFixed(2)} statements per message`,
    );
    for (const t of r.top) ctx.log(`    ${t.perMessage.toFixed(3)} × ${t.msPerMessage.toFixed(3)} ms  ${t.sql}`);
    figures.push(
      { key: `hl7proc.${key}.perSecond`, label: `HL7 processor alone, ${name}`, value: r.perSecond, unit: 'msg/s' },
      {
        key: `hl7proc.${key}.cpu`,
        label: `HL7 processor alone, ${name}: CPU of dxhub per message`,
        value: r.cpuMicrosPerMessage,
        unit: 'µs',
      },
      ...(r.serverCpuMicrosPerMessage === undefined
        ? []
        : [
            {
              key: `hl7proc.${key}.serverCpu`,
              label: `HL7 processor alone, ${name}: CPU of the PostgreSQL server per message`,
              value: r.serverCpuMicrosPerMessage,
              unit: 'µs',
            },
          ]),
      {
        key: `hl7proc.${key}.statements`,
        label: `HL7 processor alone, ${name}: statements per message`,
        value: r.statementsPerMessage,
        unit: 'stmts',
        digits: 2,
      },
    );
  }
  return { figures, detail: { messages: n, single, batch } };
}
