import { ANALYSES, NPU, rng } from '../lab-data.ts';
import { fetchJson, runLoad } from '../load.ts';
import { type Preloaded, preload } from '../preload.ts';
import {
  consumersPastPreload,
  loadFigures,
  type ScenarioContext,
  type ScenarioResult,
  seconds,
  warmupSeconds,
  withFreshServer,
} from './harness.ts';

interface SearchBundle {
  total?: number;
  entry?: { resource: { subject: { reference: string }; effectiveDateTime: string } }[];
}

const MB = 1024 * 1024;

/** Disk figures of a pre-load: database size and stored JSON per Observation. */
function diskFigures(p: Preloaded) {
  return [
    { key: 'disk.observations', label: 'Pre-loaded Observations', value: p.observations, unit: '' },
    {
      key: 'disk.preloadPerSecond',
      label: 'Pre-load via repository (in-process)',
      value: p.observations / p.seconds,
      unit: 'obs/s',
    },
    { key: 'disk.totalMb', label: 'Database size after load', value: p.sizeBytes / MB, unit: 'MB', digits: 1 },
    {
      key: 'disk.bytesPerObservation',
      label: 'Disk per Observation (all tables)',
      value: p.sizeBytes / p.observations,
      unit: 'B',
    },
    {
      key: 'disk.jsonBytesPerObservation',
      label: 'Stored JSON per Observation (average)',
      value: p.observationJsonBytes / p.observations,
      unit: 'B',
    },
  ];
}

/**
 * `Observation?subject=Patient/X&code=<NPU>|<code>&_sort=-date&_count=50` on `--observations`
 * results (~100 per patient: 20 analyses × 5 visits, so ~5 matches), random patient/analysis pairs,
 * 16 connections for ~15 s (the pre-load counts as history its outbox consumers have processed);
 * the server's peak RSS during the run. With `http: false` only the load and the disk figures
 * (`--only disk`).
 */
export async function searchScenario(ctx: ScenarioContext, opts: { http: boolean }): Promise<ScenarioResult> {
  const n = ctx.observations;
  return withFreshServer(
    ctx,
    async (db) => {
      ctx.log(`  pre-loading ${n.toLocaleString('en')} Observations through the repository…`);
      const p = await preload(db.url, { observations: n, log: ctx.log });
      // The pre-load is history the server's outbox consumers (result processing, management
      // information, delivery) processed long ago: timed while they worked through it as a backlog,
      // the searches measured mostly the backlog's writes (quick runs: 145 / 231 req/s).
      await consumersPastPreload(db.url);
      const perObs = Object.entries(p.tableBytes)
        .slice(0, 8)
        .map(([t, b]) => `${t} ${Math.round(b / p.observations)}`);
      ctx.log(`  pre-loaded in ${p.seconds.toFixed(1)} s; bytes per Observation by table: ${perObs.join(', ')}`);
      return p;
    },
    async (server, p) => {
      const disk = diskFigures(p);
      const detail = { preload: { ...p, patientIds: p.patientIds.length, observationIds: undefined } };
      if (!opts.http) return { figures: disk, detail };
      const random = rng(99);
      const path = () => {
        const patient = p.patientIds[Math.floor(random() * p.patientIds.length)];
        const code = ANALYSES[Math.floor(random() * ANALYSES.length)]!.npu;
        return `/fhir/Observation?subject=Patient/${patient}&code=${encodeURIComponent(`${NPU}|${code}`)}&_sort=-date&_count=50`;
      };
      const check = await fetchJson<SearchBundle>(server.url + path());
      const dates = (check.entry ?? []).map((e) => e.resource.effectiveDateTime);
      if (dates.length === 0) throw new Error('search sanity check: no matches for a pre-loaded patient/code pair');
      if (dates.some((d, i) => i > 0 && Date.parse(d) > Date.parse(dates[i - 1]!))) {
        ctx.log(`  ✗ search results not sorted by -date: ${dates.join(', ')}`);
      }
      server.resetPeak();
      await runLoad({
        baseUrl: server.url,
        connections: 16,
        seconds: warmupSeconds(ctx),
        next: () => ({ path: path() }),
      });
      const r = await runLoad({
        baseUrl: server.url,
        connections: 16,
        seconds: seconds(ctx, 15),
        next: () => ({ path: path() }),
      });
      const rss = server.peakRss();
      return {
        figures: [
          ...disk,
          ...loadFigures('search', 'Search subject+code, _sort=-date (16 conn)', r),
          { key: 'search.non2xx', label: 'Search: non-2xx', value: r.non2xx + r.errors, unit: '' },
          {
            key: 'search.peakRssMb',
            label: 'Server peak RSS during search (polled)',
            value: rss.polledBytes / MB,
            unit: 'MB',
          },
          {
            key: 'search.vmHwmMb',
            label: 'Server VmHWM (since start, after search)',
            value: (rss.hwmBytes ?? Number.NaN) / MB,
            unit: 'MB',
          },
        ],
        detail: { ...detail, load: r, matchesInSanityCheck: dates.length, rss },
      };
    },
  );
}
