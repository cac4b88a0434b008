import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { auditJournalOf, dataEnd } from '../../src/audit/audit-journal.ts';
import { journalKey } from '../../src/audit/audit-log.ts';
import { type Dialect, openDialect } from '../../src/store/dialect/dialect.ts';
import { freshDatabase } from '../databases.ts';
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
      .some((n) => dataEnd(join(journal, n)) > (moved.get(journalKey(n)) ?? 0));
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

/** One kind of reader: which API, which requests, and what it measured so far. */
interface Reader {
  /** Base URL of the API it reads from. */
  readonly url: string;
  /** The server process (both APIs of a pass run in the same one). */
  readonly pid: number;
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

/** One pass's readers. */
interface Pass {
  readonly readers: Record<'open' | 'integration' | 'clinician', Reader>;
}

/**
 * `GET /fhir/Observation/<id>` over 16 connections, the ids rotating through a pre-loaded set
 * (20,000; 5,000 with `--quick`) so that consecutive reads hit different rows. Three readers:
 * - the same build without authentication, access decisions and audit;
 * - dxhub as `dxhub serve` builds it, with a system account (integration): token check, SMART
 *   scopes and the durable audit entry of every read;
 * - the same with a clinician: also the treatment relation (§ 42 a) and blocks, for patients
 *   admitted to the clinician's department.
 * Both APIs run in one server process (bench/paired-server.ts), each with its own connection to
 * the database; the readers take turns in short bursts (5 rounds of 2 s each, 3 of 1 s with
 * `--quick`), each round starting with the next reader, after warm-up rounds in the same pattern.
 * The difference is what authorisation and audit cost (issue 3: ≤ 15 % of the read throughput).
 * The reads are timed once the server's consumers have worked off the pre-load.
 *
 * One process rather than two (an open server beside `dxhub serve`, until session 30): on the
 * 2-vCPU machines this was built on, two processes of the same build ran at rates up to 2× apart
 * for as long as they lived (2026-12-02: four `dxhub serve` side by side, order-sign bursts in turn:
 * 2,824 / 2,909 / 2,808 / 1,584 evaluations/s), and a single pair put the read loss anywhere from
 * 2 % to 38 %. The comparison still runs in several passes (3; 2 with `--quick`), each in a new
 * process; the figures are the sum of all passes' bursts, each pass's own loss is in the detail.
 */
export async function readScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.quick ? 5_000 : 20_000;
  const passCount = ctx.quick ? 2 : 3;
  const db = await freshDatabase(ctx.dialect);
  let running: ServerProcess[] = [];
  const stopAll = async () => {
    for (const s of running) await s.stop();
    running = [];
  };
  const unregister = ctx.onInterrupt(async () => {
    await stopAll();
    await db.drop();
  });
  const audit = await openDialect(db.url);
  try {
    const loaded = await preload(db.url, { observations: size, keepIds: true });
    const ids = loaded.observationIds;
    const patients = loaded.patientIds;
    const passes: Pass[] = [];
    for (let p = 0; p < passCount; p++) {
      const server = await startServer(db.url, ctx.serverNodeArgs, { pairedOpen: true });
      running.push(server);
      const openUrl = server.openUrl!;
      const settled = await consumersCaughtUp(db.url);
      ctx.log(`  pass ${p + 1}/${passCount}: consumers caught up after ${settled.toFixed(1)} s`);
      const integration = server.bearer(['--user', 'bench-interface', '--role', 'integration', '--org', 'bench-org']);
      for (const [url, headers] of [
        [openUrl, {}],
        [server.url, { authorization: integration }],
      ] as const) {
        const sample = await fetchJson<{ id: string }>(`${url}/fhir/Observation/${ids[0]}`, { headers });
        if (sample.id !== ids[0]) throw new Error(`read returned id ${sample.id}, expected ${ids[0]}`);
      }
      if (p === 0) {
        await admitPatients(server, patients, integration);
        await consumersCaughtUp(db.url);
      }
      const clinician = server.bearer(['--user', 'bench-doctor', '--role', 'clinician', '--org', 'bench-med']);
      // Tokens go with each request (below), none by default: the open server must get none.
      delete defaultHeaders.authorization;
      passes.push({
        readers: await measurePass(ctx, db.url, audit, ids, openUrl, server, integration, clinician),
      });
      await stopAll();
    }
    const cost = (withAccess: LoadResult, open: LoadResult) => 100 * (1 - withAccess.perSecond / open.perSecond);
    const merged = (k: keyof Pass['readers']): Reader => {
      const rs = passes.map((x) => x.readers[k]);
      const threads: Record<string, number> = {};
      for (const x of rs)
        for (const [t, v] of Object.entries(x.threads)) threads[t] = (threads[t] ?? 0) + v / rs.length;
      return {
        url: rs[0]!.url,
        pid: rs[0]!.pid,
        next: rs[0]!.next,
        runs: rs.flatMap((x) => x.runs),
        cpuMicros: rs.reduce((a, x) => a + x.cpuMicros, 0),
        cpuPerRequest: rs.flatMap((x) => x.cpuPerRequest),
        threads,
        minorFaults: rs.reduce((a, x) => a + x.minorFaults, 0) / rs.length,
      };
    };
    const readers = { open: merged('open'), integration: merged('integration'), clinician: merged('clinician') };
    const o = combined(readers.open.runs);
    const r = combined(readers.integration.runs);
    const c = combined(readers.clinician.runs);
    const byPass = passes.map((x) => {
      const po = combined(x.readers.open.runs);
      return {
        openPerSecond: Math.round(po.perSecond),
        integrationLoss: Math.round(10 * cost(combined(x.readers.integration.runs), po)) / 10,
        clinicianLoss: Math.round(10 * cost(combined(x.readers.clinician.runs), po)) / 10,
      };
    });
    for (const [i, b] of byPass.entries()) {
      ctx.log(
        `  pass ${i + 1}: open ${b.openPerSecond} req/s, lost: integration ${b.integrationLoss} %, clinician ${b.clinicianLoss} %`,
      );
    }
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
          value: cost(r, o),
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
          value: cost(c, o),
          unit: '%',
          digits: 1,
        },
      ],
      detail: {
        passes: byPass,
        open: readers.open.runs,
        integration: readers.integration.runs,
        clinician: readers.clinician.runs,
        cpuPerRequest: Object.fromEntries(Object.entries(readers).map(([k, x]) => [k, x.cpuPerRequest])),
        minorFaultsPerRequest: Object.fromEntries(
          Object.entries(readers).map(([k, x]) => [k, Math.round(x.minorFaults * 100) / 100]),
        ),
        cpuPerRequestByThread: Object.fromEntries(
          Object.entries(readers).map(([k, x]) => [
            k,
            Object.fromEntries(Object.entries(x.threads).map(([t, v]) => [t, Math.round(v * 10) / 10])),
          ]),
        ),
        preloaded: ids.length,
        patients: patients.length,
      },
    };
  } finally {
    unregister();
    await audit.close();
    await stopAll();
    await db.drop();
  }
}

/** One pass: warm-up and timed bursts of the three readers in turn, on a fresh pair of servers. */
async function measurePass(
  ctx: ScenarioContext,
  dbUrl: string,
  audit: Dialect,
  ids: readonly string[],
  openUrl: string,
  server: ServerProcess,
  integration: string,
  clinician: string,
): Promise<Pass['readers']> {
  // A stride coprime with the set size visits every id before repeating, in scattered order.
  const rotating = (set: readonly string[], headers: Record<string, string>) => {
    let i = 0;
    return () => ({ path: `/fhir/Observation/${set[(i++ * 7919) % set.length]}`, headers });
  };
  const reader = (url: string, next: () => NextRequest): Reader => ({
    url,
    pid: server.pid,
    next,
    runs: [],
    cpuMicros: 0,
    cpuPerRequest: [],
    threads: {},
    minorFaults: 0,
  });
  const readers = {
    open: reader(openUrl, rotating(ids, {})),
    integration: reader(server.url, rotating(ids, { authorization: integration })),
    clinician: reader(server.url, rotating(ids, { authorization: clinician })),
  };
  const rounds = ctx.quick ? 3 : 5;
  const burst = seconds(ctx, 10) / rounds;
  // Warm-up in the pattern of the measured rounds: each server's compiler and heap settle
  // under the same alternation (a single short warm-up per reader left the audited server's
  // optimising compiler and major GCs busy for the first measured rounds).
  for (let k = 0; k < (ctx.quick ? 1 : 2); k++) {
    for (const r of Object.values(readers)) {
      await runLoad({ baseUrl: r.url, connections: 16, seconds: warmupSeconds(ctx) * 2, next: r.next });
      await auditChainSettled(audit, dbUrl);
    }
  }
  const order = Object.values(readers);
  for (let k = 0; k < rounds; k++) {
    // Each round starts with another reader, so none is always the first after a pause.
    for (const r of [...order.slice(k % order.length), ...order.slice(0, k % order.length)]) {
      const cpu0 = processCpuMicros(r.pid);
      const threads0 = threadCpuMicros(r.pid);
      const faults0 = minorFaults(r.pid);
      r.runs.push(await runLoad({ baseUrl: r.url, connections: 16, seconds: burst, next: r.next }));
      // Audit entries are durable before each answer and chained shortly after, on another
      // thread: that work belongs to this reader (its CPU, and not the next reader's time).
      await auditChainSettled(audit, dbUrl);
      const used = (processCpuMicros(r.pid) ?? Number.NaN) - (cpu0 ?? Number.NaN);
      r.cpuMicros += used;
      const n = r.runs.at(-1)?.responses ?? Number.NaN;
      r.cpuPerRequest.push(Math.round(used / n));
      r.minorFaults += (minorFaults(r.pid) - faults0) / n / rounds;
      for (const [name, micros] of Object.entries(threadCpuMicros(r.pid))) {
        r.threads[name] = (r.threads[name] ?? 0) + (micros - (threads0[name] ?? 0)) / n / rounds;
      }
    }
  }
  return readers;
}

/**
 * Admits every pre-loaded patient to the clinician's department (an open Encounter each), so that
 * the clinician reads the same Observations as the other readers.
 */
async function admitPatients(
  server: ServerProcess,
  patientIds: readonly string[],
  authorization: string,
): Promise<void> {
  await fetchJson(`${server.url}/fhir/Organization/bench-med`, {
    method: 'PUT',
    headers: { authorization },
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
      headers: { authorization },
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
