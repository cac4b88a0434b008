import { fetchJson, runLoad } from '../load.ts';
import { preload } from '../preload.ts';
import { processCpuMicros } from '../server-process.ts';
import {
  consumersCaughtUp,
  loadFigures,
  type ScenarioContext,
  type ScenarioResult,
  seconds,
  warmupSeconds,
  withFreshServer,
} from './harness.ts';

/**
 * `GET /fhir/Observation/<id>` over 16 connections for ~10 s, the ids rotating through a
 * pre-loaded set (20,000; 5,000 with `--quick`) so that consecutive reads hit different rows.
 */
export async function readScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.quick ? 5_000 : 20_000;
  let dbUrl = '';
  return withFreshServer(
    ctx,
    (db) => {
      dbUrl = db.url;
      return preload(db.url, { observations: size, keepIds: true });
    },
    async (server, { observationIds: ids }) => {
      // The reads are timed once the server's consumers have worked off the pre-load (result
      // pipeline, operations …): a read measures the read path, not a backlog beside it.
      const settled = await consumersCaughtUp(dbUrl);
      ctx.log(`  consumers caught up with the pre-load after ${settled.toFixed(1)} s`);
      const sample = await fetchJson<{ id: string }>(`${server.url}/fhir/Observation/${ids[0]}`);
      if (sample.id !== ids[0]) throw new Error(`read returned id ${sample.id}, expected ${ids[0]}`);
      // A stride coprime with the set size visits every id before repeating, in scattered order.
      let i = 0;
      const next = () => ({ path: `/fhir/Observation/${ids[(i++ * 7919) % ids.length]}` });
      await runLoad({ baseUrl: server.url, connections: 16, seconds: warmupSeconds(ctx), next });
      // 1. A system account (integration): token check, SMART scopes and the durable audit entry.
      const cpu0 = processCpuMicros(server.pid);
      const r = await runLoad({ baseUrl: server.url, connections: 16, seconds: seconds(ctx, 10), next });
      const cpu1 = processCpuMicros(server.pid);
      // 2. A clinician: also the treatment relation (§ 42 a) and blocks for every patient read.
      //    Every preloaded patient is admitted to the clinician's department.
      await fetchJson(`${server.url}/fhir/Organization/bench-med`, {
        method: 'PUT',
        body: JSON.stringify({
          resourceType: 'Organization',
          id: 'bench-med',
          identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: 'bench-med' }],
          name: 'Medicinsk afdeling (bench)',
        }),
      });
      const patientIds = new Set<string>();
      for (const id of ids.slice(0, 2000)) {
        const o = await fetchJson<{ subject: { reference: string } }>(`${server.url}/fhir/Observation/${id}`);
        patientIds.add(o.subject.reference);
      }
      for (const [i, ref] of [...patientIds].entries()) {
        await fetchJson(`${server.url}/fhir/Encounter/bench-enc-${i}`, {
          method: 'PUT',
          body: JSON.stringify({
            resourceType: 'Encounter',
            id: `bench-enc-${i}`,
            status: 'in-progress',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
            subject: { reference: ref },
            serviceProvider: { reference: 'Organization/bench-med' },
          }),
        });
      }
      const clinician = server.bearer(['--user', 'bench-doctor', '--role', 'clinician', '--org', 'bench-med']);
      await consumersCaughtUp(dbUrl);
      const relatedIds = ids.slice(0, 2000);
      let j = 0;
      const nextRelated = () => ({
        path: `/fhir/Observation/${relatedIds[(j++ * 7919) % relatedIds.length]}`,
        headers: { authorization: clinician },
      });
      const cpu2 = processCpuMicros(server.pid);
      const c = await runLoad({ baseUrl: server.url, connections: 16, seconds: seconds(ctx, 10), next: nextRelated });
      const cpu3 = processCpuMicros(server.pid);
      const perRequest = (a: number | undefined, b: number | undefined, n: number) =>
        a === undefined || b === undefined || n === 0 ? Number.NaN : (b - a) / n;
      return {
        figures: [
          ...loadFigures('read', 'Read Observation by id, integration account (16 conn)', r),
          { key: 'read.non2xx', label: 'Read by id: non-2xx', value: r.non2xx + r.errors, unit: '' },
          {
            key: 'read.cpuPerRequest',
            label: 'Read by id, integration: server CPU per request',
            value: perRequest(cpu0, cpu1, r.responses),
            unit: 'µs',
          },
          ...loadFigures('read-clinician', 'Read Observation by id, clinician with relation (16 conn)', c),
          { key: 'read-clinician.non2xx', label: 'Clinician read: non-2xx', value: c.non2xx + c.errors, unit: '' },
          {
            key: 'read-clinician.cpuPerRequest',
            label: 'Read by id, clinician: server CPU per request',
            value: perRequest(cpu2, cpu3, c.responses),
            unit: 'µs',
          },
        ],
        detail: { load: r, clinician: c, preloaded: ids.length, patients: patientIds.size },
      };
    },
  );
}
