/**
 * In-process cost of one `order-sign` call (no sockets, no load generator): the bench scenario's
 * patient (5,000 results, 200 rules) on a fresh database, `app.inject` in a closed loop, CPU and
 * wall per call, and the statements each call sends (counted on the repository's dialect).
 *
 *   npx node bench/order-sign-inprocess.ts [sqlite|postgres] [calls]
 *
 * Add `--cpu-prof` before the script for a V8 profile of the loop.
 */
import { randomUUID } from 'node:crypto';
import { openDialect } from '../src/store/dialect/dialect.ts';
import { FhirRepository } from '../src/store/repository.ts';
import { buildTestApp } from '../test/support/app.ts';
import { countingDialect, RoundTrips } from './counting-dialect.ts';
import { freshDatabase } from './databases.ts';
import { prepare, sr } from './scenarios/order-sign.ts';

const dialect = (process.argv[2] ?? 'sqlite') as 'sqlite' | 'postgres';
const calls = Number(process.argv[3] ?? 3000);
const db = await freshDatabase(dialect);
try {
  const { patientId } = await prepare(db.url);
  const trips = new RoundTrips();
  const repo = await FhirRepository.open(countingDialect(await openDialect(db.url), trips));
  const dx = await buildTestApp({ db: db.url }, { repo });
  await dx.results.drain();
  const orders = [
    sr('o-crp', patientId, 'http://npu-terminology.org', 'NPU19748'),
    sr('o-a1c', patientId, 'http://npu-terminology.org', 'NPU27300'),
    sr('o-egfr', patientId, 'http://npu-terminology.org', 'DNK35302'),
    sr('o-ct', patientId, 'urn:dxhub:local:imaging', 'ct-abdomen-contrast'),
  ];
  const call = () =>
    dx.app.inject({
      method: 'POST',
      url: '/cds-services/dxhub-order-sign',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        hook: 'order-sign',
        hookInstance: randomUUID(),
        context: {
          userId: 'Practitioner/bench',
          patientId,
          draftOrders: { resourceType: 'Bundle', type: 'collection', entry: orders.map((resource) => ({ resource })) },
        },
      }),
    });
  const first = await call();
  if (first.statusCode !== 200) throw new Error(`${first.statusCode} ${first.body}`);
  for (let i = 0; i < 300; i++) await call();
  for (const concurrency of [1, 8]) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let left = calls;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) {
          const r = await call();
          if (r.statusCode !== 200) throw new Error(`${r.statusCode} ${r.body}`);
        }
      }),
    );
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `${dialect} concurrency ${concurrency}: ${calls} calls, ${((cpu.user + cpu.system) / calls).toFixed(0)} µs CPU/call, ${((wall * 1000) / calls).toFixed(0)} µs wall/call, ${((calls * 1000) / wall).toFixed(0)} calls/s`,
    );
  }
  // The parts on their own: the evaluation (cache hit + 200 rules, no HTTP) and one audit entry.
  const drafts = ['crp', 'hba1c', 'egfr', 'ct-abdomen-contrast'].map((test, i) => ({
    id: `o${i}`,
    test,
    priority: 'routine' as const,
    indications: [],
  }));
  const part = async (label: string, n: number, concurrency: number, f: () => Promise<unknown>) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let left = n;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await f();
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `${dialect} ${label} (concurrency ${concurrency}): ${((cpu.user + cpu.system) / n).toFixed(0)} µs CPU, ${(((performance.now() - t0) * 1000) / n).toFixed(0)} µs wall each`,
    );
  };
  await part('OrderingService.evaluate', calls, 1, () => dx.ordering.evaluate({ patientId, drafts }));
  const entry = {
    action: 'read' as const,
    agent: 'bench',
    role: 'integration',
    patient: patientId,
    purpose: 'HOPERAT',
  };
  for (const c of [1, 8]) await part('audit entry (durable)', 1000, c, () => dx.audit.record(entry));

  // Statements per call (closed loop, one at a time; buffered order events and audit entries are
  // flushed after each call so that their statements are counted too).
  const n = 200;
  trips.reset();
  for (let i = 0; i < n; i++) {
    await call();
    await dx.audit.flushed();
    await dx.ordering.events.flush();
  }
  console.log(`${dialect} statements per call: ${(trips.total / n).toFixed(2)}`);
  for (const [label, count, ms] of trips.top())
    console.log(`  ${(count / n).toFixed(2).padStart(6)} × ${(ms / count).toFixed(3).padStart(7)} ms  ${label}`);
  await dx.close();
} finally {
  await db.drop();
}
