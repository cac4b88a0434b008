import {
  acuteOrders,
  type DemoEncounter,
  type DemoResource,
  demoPatient,
  demoPatientResource,
  demoRandom,
  deviceResources,
  encounterResource,
  orderResources,
  patientHistory,
  regionResources,
  staffResources,
} from '../core/demo/index.ts';
import type { FhirRepository } from '../store/repository.ts';

const DAY = 86_400_000;

/** What {@link seedRegion} builds. */
export interface SeedOptions {
  readonly patients: number;
  readonly years: number;
  readonly seed?: number | string;
  /** End of the history (ms); default now. */
  readonly asOf?: number;
  /** Patients per transaction (default 100). */
  readonly batchPatients?: number;
  /** Transactions in flight (default 2; PostgreSQL gains from more, SQLite groups them in one commit). */
  readonly concurrency?: number;
  /** Current admissions to create for the first patients (the demo clinician's ward). */
  readonly admitNow?: { readonly ward: string; readonly emergency: string; readonly count: number };
  readonly onProgress?: (p: SeedProgress) => void;
}

/** Progress and final figures of a seed run. */
export interface SeedProgress {
  readonly patients: number;
  readonly totalPatients: number;
  /** Observations written (results). */
  readonly results: number;
  readonly resources: number;
  readonly elapsedMs: number;
}

/**
 * The small region `serve --demo` seeds on first start (a few seconds): 300 patients with two years
 * of history, 20 of them admitted now to the demo clinician's ward (Medicinsk Afdeling, OUH).
 */
export const DEMO_SERVE_REGION = {
  patients: 300,
  years: 2,
  seed: 1,
  admitNow: { ward: 'demo-ouh-med', emergency: 'demo-ouh-fam', count: 20 },
} as const satisfies SeedOptions;

/** The marker of a seeded region: the first demo patient. */
export const SEED_MARKER = { type: 'Patient', id: 'dp-0' } as const;

/** True when the database already holds a demo region. */
export async function isRegionSeeded(repo: FhirRepository): Promise<boolean> {
  const v = await repo.read(SEED_MARKER.type, SEED_MARKER.id);
  return v !== undefined && !v.deleted;
}

/** Writes resources; ids seen earlier in the batch (a corrected result's second version) are updated. */
async function writeAll(repo: FhirRepository, resources: readonly DemoResource[]): Promise<void> {
  await repo.transaction(async (w) => {
    const seen = new Set<string>();
    for (const r of resources) {
      const key = `${r.resourceType}/${r.id}`;
      await repo.put(w, r, { fresh: !seen.has(key) });
      seen.add(key);
    }
  });
}

/** The resources of patients `[from, to)`: Patient, Encounters, orders with results. */
export function patientBatch(
  o: Required<Pick<SeedOptions, 'years'>> & { seed: number | string; asOf: number; admitNow?: SeedOptions['admitNow'] },
  from: number,
  to: number,
): { resources: DemoResource[]; results: number } {
  const start = o.asOf - o.years * 365.25 * DAY;
  const resources: DemoResource[] = [];
  let results = 0;
  for (let i = from; i < to; i++) {
    const p = demoPatient(o.seed, i, o.asOf);
    resources.push(demoPatientResource(p));
    const h = patientHistory(o.seed, p, start, o.asOf);
    const encounters = [...h.encounters];
    const orders = [...h.orders];
    if (o.admitNow && i < o.admitNow.count) {
      // A current admission: in progress now, so the ward's clinicians have a treatment relation.
      const r = demoRandom(o.seed, 'admit-now', i);
      const enc: DemoEncounter = {
        id: `de-${i}-now`,
        patient: p,
        serviceProvider: o.admitNow.ward,
        inpatient: true,
        start: o.asOf - r.int(2, 60) * 3_600_000,
        end: o.asOf + r.int(1, 5) * DAY,
      };
      encounters.push(enc);
      let k = 0;
      const emergency = { code: o.admitNow.emergency, name: '', level: 'department' as const };
      orders.push(...acuteOrders(r, p, enc, emergency, () => `do-${i}-now-${k++}`).filter((x) => x.issued < o.asOf));
    }
    for (const e of encounters) resources.push(encounterResource(e, o.asOf));
    for (const order of orders) {
      results += order.results.length;
      resources.push(...orderResources(order));
    }
  }
  return { resources, results };
}

/**
 * Builds a demo region in the store: the organisation tree, staff and devices (idempotent puts),
 * then `patients` patients with `years` of history, written through {@link FhirRepository.transaction}
 * in batches. Deterministic from `seed`. Refuses a database that already holds a demo region.
 */
export async function seedRegion(repo: FhirRepository, options: SeedOptions): Promise<SeedProgress> {
  if (!Number.isInteger(options.patients) || options.patients < 1)
    throw new RangeError('patients must be a positive integer');
  if (!(options.years > 0) || options.years > 50) throw new RangeError('years must be > 0 and ≤ 50');
  if (await isRegionSeeded(repo)) {
    throw new Error(
      `the database already holds a demo region (${SEED_MARKER.type}/${SEED_MARKER.id}); use an empty database`,
    );
  }
  const seed = options.seed ?? 1;
  const asOf = options.asOf ?? Date.now();
  const t0 = performance.now();
  await repo.transaction(async (w) => {
    for (const r of [...regionResources(), ...staffResources(seed), ...deviceResources()]) await repo.put(w, r);
  });
  const batch = options.batchPatients ?? 100;
  const concurrency = options.concurrency ?? 2;
  let next = 0;
  let patients = 0;
  let results = 0;
  let resources = 0;
  const progress = (): SeedProgress => ({
    patients,
    totalPatients: options.patients,
    results,
    resources,
    elapsedMs: performance.now() - t0,
  });
  const worker = async () => {
    while (next < options.patients) {
      const from = next;
      const to = Math.min(options.patients, from + batch);
      next = to;
      const b = patientBatch({ seed, asOf, years: options.years, admitNow: options.admitNow }, from, to);
      await writeAll(repo, b.resources);
      patients += to - from;
      results += b.results;
      resources += b.resources.length;
      options.onProgress?.(progress());
    }
  };
  // The marker patient (batch 0) is written by the first worker: a crash before it leaves the database "unseeded".
  await Promise.all(Array.from({ length: concurrency }, worker));
  return progress();
}
