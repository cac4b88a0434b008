import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { auditJournalOf } from '../../src/audit/audit-journal.ts';
import { journalKey } from '../../src/audit/audit-log.ts';
import { type Dialect, openDialect } from '../../src/store/dialect/dialect.ts';
import type { Figure } from '../figures.ts';
import { defaultHeaders, fetchJson, type LoadResult, type NextRequest, runLoad } from '../load.ts';
import { preload } from '../preload.ts';
import {
  BENCH_AUDIT_JOURNAL,
  minorFaults,
  processCpuMicros,
  type ServerProcess,
  startServer,
  threadCpuMicros,
} from '../server-process.ts';
import {
  consumersCaughtUp,
  loadFigures,
  type ScenarioContext,
  type ScenarioResult,
  seconds,
  warmupSeconds,
  withFreshServer,
} from './harness.ts';

/** The sum of several load runs: counts and time added, latencies the median of the runs'. */
function combined(runs: readonly LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  const median = (f: (r: LoadResult) => number) => {
    const v = runs.map(f).sort((a, b) => a - b);
    return v[Math.floor((v.length - 1) / 2)] ?? Number.NaN;
  };
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
  const secs = sum((r) => r.seconds);
  return {
    responses: sum((r) => r.responses),
    ok: sum((r) => r.ok),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    seconds: secs,
    perSecond: secs > 0 ? sum((r) => r.responses) / secs : Number.NaN,
    p50: median((r) => r.p50),
    p95: median((r) => r.p95),
    p99: median((r) => r.p99),
    statuses,
  };
}

/**
 * Waits until the hash chain has taken in every audit entry written so far: every journal segment
 * is moved to its end (the offsets in `store_meta`), on PostgreSQL also nothing waits in
 * `audit_staging` (the entries of writes); and the chain's last `seq` then stays the same over a look 300 ms later.
 */
async function auditChainSettled(db: Dialect, dbUrl: string): Promise<void> {
  const journal = auditJournalOf(dbUrl, BENCH_AUDIT_JOURNAL);
  const pending = async () => {
    if (
      db.caps.name === 'postgres' &&
      (await db.all<{ id: number }>('SELECT id FROM audit_staging LIMIT 1', [])).length > 0
    )
      return true;
    if (!journal || !existsSync(journal)) return false;
    const moved = new Map(
      (await db.all<{ key: string; value: string }>('SELECT key, value FROM store_meta', [])).map((r) => [
        r.key,
        Number(r.value),
      ]),
    );
    return readdirSync(journal)
      .filter((n) => n.endsWith('.jsonl'))
      .some(
        (n) => (statSync(join(journal, n), { throwIfNoEntry: false })?.size ?? 0) > (moved.get(journalKey(n)) ?? 0),
      );
  };
  const tail = async () =>
    Number((await db.all<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM audit_log', []))[0]?.seq ?? 0);
  for (;;) {
    while (await pending()) await new Promise((r) => setTimeout(r, 100));
    const last = await tail();
    await new Promise((r) => setTimeout(r, 300));
    if ((await tail()) === last && !(await pending())) return;
  }
}

/** A reader's load figures, its non-2xx count and the server's CPU per request. */
function readerFigures(
  x: Reader,
  l: LoadResult,
  names: { key: string; load: string; non2xx: string; cpu: string },
): Figure[] {
  return [
    ...loadFigures(names.key, names.load, l),
    { key: `${names.key}.non2xx`, label: names.non2xx, value: l.non2xx + l.errors, unit: '' },
    {
      key: `${names.key}.cpuPerRequest`,
      label: names.cpu,
      value: l.responses > 0 ? x.cpuMicros / l.responses : Number.NaN,
      unit: 'µs',
    },
  ];
}

/** One kind of reader: which server, which requests, and what it measured so far. */
interface Reader {
  readonly server: ServerProcess;
  readonly next: () => NextRequest;
  readonly runs: LoadResult[];
  cpuMicros: number;
  /** Server CPU per request of each burst, µs. */
  readonly cpuPerRequest: number[];
  /** Server CPU per request by kind of thread, µs (mean of the bursts). */
  readonly threads: Record<string, number>;
  /** Minor page faults of the server per request (pages of the memory-mapped database touched anew). */
  minorFaults: number;
}

/**
 * `GET /fhir/Observation/<id>` over 16 connections, the ids rotating through a pre-loaded set
 * (20,000; 5,000 with `--quick`) so that consecutive reads hit different rows. Three readers:
 * - the same build without authentication, access decisions and audit (bench/open-server.ts);
 * - `dxhub serve` with a system account (integration): token check, SMART scopes and the durable
 *   audit entry of every read;
 * - `dxhub serve` with a clinician: also the treatment relation (§ 42 a) and blocks, for patients
 *   admitted to the clinician's department.
 * Both servers run on the same database at once; the readers take turns in short bursts (5 rounds
 * of 2 s each, 3 of 1 s with `--quick`), each round starting with the next reader, after warm-up
 * rounds in the same pattern, so that a machine whose speed drifts over the run treats them alike.
 * The difference is what authorisation and audit cost (issue 3: ≤ 15 % of the read throughput).
 * The reads are timed once the servers' consumers have worked off the pre-load.
 */
export async function readScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.quick ? 5_000 : 20_000;
  let dbUrl = '';
  return withFreshServer(
    ctx,
    async (db) => {
      dbUrl = db.url;
      const loaded = await preload(db.url, { observations: size, keepIds: true });
      const open = await startServer(db.url, ctx.serverNodeArgs, { withoutAccessControl: true });
      return { ids: loaded.observationIds, patients: loaded.patientIds, open };
    },
    async (server, { ids, patients, open }) => {
      const unregister = ctx.onInterrupt(() => open.stop());
      const audit = await openDialect(dbUrl);
      try {
        const settled = await consumersCaughtUp(dbUrl);
        ctx.log(`  consumers caught up with the pre-load after ${settled.toFixed(1)} s`);
        for (const s of [open, server]) {
          const sample = await fetchJson<{ id: string }>(`${s.url}/fhir/Observation/${ids[0]}`);
          if (sample.id !== ids[0]) throw new Error(`read returned id ${sample.id}, expected ${ids[0]}`);
        }
        const integration = server.bearer(['--user', 'bench-interface', '--role', 'integration', '--org', 'bench-org']);
        await admitPatients(server, patients);
        const clinician = server.bearer(['--user', 'bench-doctor', '--role', 'clinician', '--org', 'bench-med']);
        await consumersCaughtUp(dbUrl);

        // A stride coprime with the set size visits every id before repeating, in scattered order.
        const rotating = (set: readonly string[], headers: Record<string, string>) => {
          let i = 0;
          return () => ({ path: `/fhir/Observation/${set[(i++ * 7919) % set.length]}`, headers });
        };
        const reader = (on: ServerProcess, next: () => NextRequest): Reader => ({
          server: on,
          next,
          runs: [],
          cpuMicros: 0,
          cpuPerRequest: [],
          threads: {},
          minorFaults: 0,
        });
        const readers = {
          open: reader(open, rotating(ids, {})),
          integration: reader(server, rotating(ids, { authorization: integration })),
          clinician: reader(server, rotating(ids, { authorization: clinician })),
        };
        // Tokens go with each request (above), none by default: the open server must get none.
        delete defaultHeaders.authorization;
        const rounds = ctx.quick ? 3 : 5;
        const burst = seconds(ctx, 10) / rounds;
        // Warm-up in the pattern of the measured rounds: each server's compiler and heap settle
        // under the same alternation (a single short warm-up per reader left the audited server's
        // optimising compiler and major GCs busy for the first measured rounds).
        for (let k = 0; k < (ctx.quick ? 1 : 2); k++) {
          for (const r of Object.values(readers)) {
            await runLoad({ baseUrl: r.server.url, connections: 16, seconds: warmupSeconds(ctx) * 2, next: r.next });
            await auditChainSettled(audit, dbUrl);
          }
        }
        const order = Object.values(readers);
        for (let k = 0; k < rounds; k++) {
          // Each round starts with another reader, so none is always the first after a pause.
          for (const r of [...order.slice(k % order.length), ...order.slice(0, k % order.length)]) {
            const cpu0 = processCpuMicros(r.server.pid);
            const threads0 = threadCpuMicros(r.server.pid);
            const faults0 = minorFaults(r.server.pid);
            r.runs.push(await runLoad({ baseUrl: r.server.url, connections: 16, seconds: burst, next: r.next }));
            // Audit entries are durable before each answer and chained shortly after, on another
            // thread: that work belongs to this reader (its CPU, and not the next reader's time).
            await auditChainSettled(audit, dbUrl);
            const used = (processCpuMicros(r.server.pid) ?? Number.NaN) - (cpu0 ?? Number.NaN);
            r.cpuMicros += used;
            const n = r.runs.at(-1)?.responses ?? Number.NaN;
            r.cpuPerRequest.push(Math.round(used / n));
            r.minorFaults += (minorFaults(r.server.pid) - faults0) / n / rounds;
            for (const [name, micros] of Object.entries(threadCpuMicros(r.server.pid))) {
              r.threads[name] = (r.threads[name] ?? 0) + (micros - (threads0[name] ?? 0)) / n / rounds;
            }
          }
        }
        const o = combined(readers.open.runs);
        const r = combined(readers.integration.runs);
        const c = combined(readers.clinician.runs);
        const cost = (withAccess: LoadResult) => 100 * (1 - withAccess.perSecond / o.perSecond);
        return {
          figures: [
            ...readerFigures(readers.open, o, {
              key: 'read-open',
              load: 'Read Observation by id, without authorisation and audit (16 conn)',
              non2xx: 'Read without access control: non-2xx',
              cpu: 'Read by id, without access control: server CPU per request',
            }),
            ...readerFigures(readers.integration, r, {
              key: 'read',
              load: 'Read Observation by id, integration account (16 conn)',
              non2xx: 'Read by id: non-2xx',
              cpu: 'Read by id, integration: server CPU per request',
            }),
            {
              key: 'read.accessCost',
              label: 'Authorisation and audit: read throughput lost, integration account',
              value: cost(r),
              unit: '%',
              digits: 1,
            },
            ...readerFigures(readers.clinician, c, {
              key: 'read-clinician',
              load: 'Read Observation by id, clinician with relation (16 conn)',
              non2xx: 'Clinician read: non-2xx',
              cpu: 'Read by id, clinician: server CPU per request',
            }),
            {
              key: 'read-clinician.accessCost',
              label: 'Authorisation and audit: read throughput lost, clinician (relation, blocks)',
              value: cost(c),
              unit: '%',
              digits: 1,
            },
          ],
          detail: {
            open: readers.open.runs,
            integration: readers.integration.runs,
            clinician: readers.clinician.runs,
            cpuPerRequest: Object.fromEntries(Object.entries(readers).map(([k, r]) => [k, r.cpuPerRequest])),
            minorFaultsPerRequest: Object.fromEntries(
              Object.entries(readers).map(([k, r]) => [k, Math.round(r.minorFaults * 100) / 100]),
            ),
            cpuPerRequestByThread: Object.fromEntries(
              Object.entries(readers).map(([k, r]) => [
                k,
                Object.fromEntries(Object.entries(r.threads).map(([t, v]) => [t, Math.round(v * 10) / 10])),
              ]),
            ),
            preloaded: ids.length,
            patients: patients.length,
          },
        };
      } finally {
        unregister();
        await audit.close();
        await open.stop();
      }
    },
  );
}

/**
 * Admits every pre-loaded patient to the clinician's department (an open Encounter each), so that
 * the clinician reads the same Observations as the other readers.
 */
async function admitPatients(server: ServerProcess, patientIds: readonly string[]): Promise<void> {
  await fetchJson(`${server.url}/fhir/Organization/bench-med`, {
    method: 'PUT',
    body: JSON.stringify({
      resourceType: 'Organization',
      id: 'bench-med',
      identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: 'bench-med' }],
      name: 'Medicinsk afdeling (bench)',
    }),
  });
  for (const [i, id] of patientIds.entries()) {
    await fetchJson(`${server.url}/fhir/Encounter/bench-enc-${i}`, {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Encounter',
        id: `bench-enc-${i}`,
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
        subject: { reference: `Patient/${id}` },
        serviceProvider: { reference: 'Organization/bench-med' },
      }),
    });
  }
}
