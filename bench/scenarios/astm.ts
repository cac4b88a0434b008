import { measureAstmThroughput } from '../../src/ingest/astm-throughput.ts';
import type { Dialect } from '../../src/store/dialect/dialect.ts';
import { openDialect } from '../../src/store/dialect/dialect.ts';
import { fetchJson } from '../load.ts';
import { processCpuMicros, type ServerProcess } from '../server-process.ts';
import { type ScenarioContext, type ScenarioResult, withFreshServer } from './harness.ts';

const RESULTS_PER_MESSAGE = 20;

/**
 * ASTM E1381/E1394 from one analyzer connection (issue 5: ≥ 1,000 results/s over one connection).
 * `measureAstmThroughput` sends result messages (H, P, O, 20 R, L) as an analyzer does, one
 * ENQ … EOT session per message, each frame waiting for its ACK; a message counts once the ACK of
 * its last frame arrived, i.e. after the listener committed it to the durable ASTM inbox. The
 * clock of the second figure stops when every message is processed (inbox queue empty) and all
 * its results are searchable Observations. A short warm-up run (its own samples) goes first.
 */
export async function astmScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const messages = ctx.quick ? 250 : 1_000;
  return withFreshServer(
    ctx,
    async (fresh) => fresh.url,
    async (server, dbUrl) => {
      const db = await openDialect(dbUrl);
      try {
        const port = server.astmPort!;
        await measureAstmThroughput({ host: '127.0.0.1', port, messages: 20, samplePrefix: 'WARM' });
        const warm = await processedAndSearchable(server, db, 20 * RESULTS_PER_MESSAGE, 120);
        if (!warm.done) throw new Error(`the warm-up was not processed: ${JSON.stringify(warm)}`);

        const cpu0 = processCpuMicros(server.pid) ?? Number.NaN;
        const t0 = performance.now();
        const acked = await measureAstmThroughput({
          host: '127.0.0.1',
          port,
          messages,
          resultsPerMessage: RESULTS_PER_MESSAGE,
          samplePrefix: 'RUN',
        });
        ctx.log(`  ${acked.results} results ACKed in ${(acked.ms / 1000).toFixed(1)} s; waiting for processing…`);
        const total = (messages + 20) * RESULTS_PER_MESSAGE;
        const end = await processedAndSearchable(server, db, total, ctx.quick ? 600 : 1_800);
        const seconds = (performance.now() - t0) / 1000;
        const cpu = (processCpuMicros(server.pid) ?? Number.NaN) - cpu0;
        if (!end.done) ctx.log(`  ✗ after ${seconds.toFixed(0)} s: ${JSON.stringify(end)}`);
        const results = messages * RESULTS_PER_MESSAGE;
        return {
          figures: [
            {
              key: 'astm.ackedPerSecond',
              label: `ASTM, one connection (${RESULTS_PER_MESSAGE} results per message): ACKed (stored)`,
              value: acked.resultsPerSecond,
              unit: 'res/s',
            },
            {
              key: 'astm.endToEndPerSecond',
              label: 'ASTM, one connection: processed and searchable',
              value: end.done ? results / seconds : Number.NaN,
              unit: 'res/s',
            },
            {
              key: 'astm.cpuPerResult',
              label: 'ASTM: server CPU per result (accept + process + consumers)',
              value: cpu / results,
              unit: 'µs',
            },
            { key: 'astm.failed', label: 'ASTM: messages failed', value: end.failed, unit: '' },
          ],
          detail: { messages, resultsPerMessage: RESULTS_PER_MESSAGE, acked, seconds, end },
        };
      } finally {
        await db.close();
      }
    },
    { astm: true },
  );
}

/** Waits until no ASTM message is queued and `observations` Observations are searchable. */
async function processedAndSearchable(
  server: ServerProcess,
  db: Dialect,
  observations: number,
  timeoutSeconds: number,
): Promise<{ done: boolean; queued: number; failed: number; searchable: number }> {
  const t0 = performance.now();
  for (;;) {
    const rows = await db.all<{ state: string; n: number }>(
      'SELECT state, COUNT(*) AS n FROM astm_inbox GROUP BY state',
      [],
    );
    const count = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    const queued = count('received');
    const failed = count('failed');
    let searchable = 0;
    if (queued === 0) {
      searchable = (await fetchJson<{ total: number }>(`${server.url}/fhir/Observation?_summary=count`)).total;
      if (searchable >= observations) return { done: true, queued, failed, searchable };
    }
    if ((performance.now() - t0) / 1000 > timeoutSeconds) return { done: false, queued, failed, searchable };
    await new Promise((r) => setTimeout(r, 100));
  }
}
