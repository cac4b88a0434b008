import { Errors } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import type { Catalogue } from '../core/ordering/catalogue.ts';
import type { CompiledRules } from '../core/ordering/engine.ts';
import { NPU } from '../core/ordering/seed/catalogue.ts';
import type { CatalogueItem, ExistingOrder, LatestResult, PatientContext, Setting } from '../core/ordering/types.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';

/** Extension holding the requesting organisation's SOR code on a ServiceRequest. */
export const REQUESTER_ORG_EXTENSION = 'urn:dxhub:ordering:requester-organisation';
const NPU_OID = 'urn:oid:1.2.208.176.2.1';
/** Open = signed and not finished (R4 request-status). */
export const OPEN_STATUSES = ['active', 'on-hold'];

type Obj = Record<string, unknown>;

/** `system|code` search values for an item, NPU under both of its system URIs. */
export function codeParam(item: CatalogueItem): string {
  const codes = [item.code, ...(item.aliases ?? [])];
  return codes
    .flatMap((c) => (c.system === NPU ? [`${NPU}|${c.code}`, `${NPU_OID}|${c.code}`] : [`${c.system}|${c.code}`]))
    .join(',');
}

async function search(repo: FhirRepository, type: string, params: [string, string][]): Promise<Obj[]> {
  const page = await repo.search(parseSearchRequest(type, params));
  return page.matches.map((m) => JSON.parse(m.json) as Obj);
}

const effectiveAt = (o: Obj): number =>
  Date.parse(String(o.effectiveDateTime ?? (o.effectivePeriod as Obj | undefined)?.start ?? o.issued ?? ''));

/** The latest result of one catalogue item (optionally as of a time), or undefined. */
export async function latestResult(
  repo: FhirRepository,
  item: CatalogueItem,
  patientId: string,
  asOf?: number,
): Promise<LatestResult | undefined> {
  const params: [string, string][] = [
    ['subject', `Patient/${patientId}`],
    ['code', codeParam(item)],
    // Withdrawn results (entered-in-error, cancelled) do not count.
    ['status', 'registered,preliminary,final,amended,corrected'],
    ['_sort', '-date'],
    ['_count', '1'],
  ];
  if (asOf !== undefined) params.push(['date', `le${new Date(asOf).toISOString()}`]);
  const [o] = await search(repo, 'Observation', params);
  if (!o) return undefined;
  const q = o.valueQuantity as Obj | undefined;
  return {
    at: effectiveAt(o),
    observationId: String(o.id),
    ...(typeof q?.value === 'number' ? { value: q.value } : {}),
    ...(typeof q?.unit === 'string' ? { unit: q.unit } : {}),
  };
}

/** A stored ServiceRequest as an existing order (undefined when its code is not in the catalogue). */
export function existingOrder(sr: Obj, cat: Catalogue): ExistingOrder | undefined {
  const codings = ((sr.code as Obj | undefined)?.coding ?? []) as Obj[];
  const item = codings.map((c) => cat.byCoding(c.system as string, c.code as string)).find(Boolean);
  if (!item) return undefined;
  const org = ((sr.extension ?? []) as Obj[]).find((e) => e.url === REQUESTER_ORG_EXTENSION)?.valueIdentifier as
    | Obj
    | undefined;
  const authored = Date.parse(String(sr.authoredOn ?? ''));
  const performed = Date.parse(String(sr.occurrenceDateTime ?? ''));
  return {
    id: String(sr.id),
    test: item.id,
    status: String(sr.status),
    ...(org?.value ? { organisation: String(org.value) } : {}),
    ...(Number.isNaN(authored) ? {} : { authoredOn: authored }),
    ...(Number.isNaN(performed) ? {} : { performedAt: performed }),
  };
}

/** Open orders of the patient across all organisations. */
export async function openOrders(repo: FhirRepository, cat: Catalogue, patientId: string): Promise<ExistingOrder[]> {
  const rows = await search(repo, 'ServiceRequest', [
    ['subject', `Patient/${patientId}`],
    ['status', OPEN_STATUSES.join(',')],
    ['_count', '500'],
  ]);
  return rows.map((r) => existingOrder(r, cat)).filter((o): o is ExistingOrder => o !== undefined);
}

/** Encounter.class (v3 ActCode) → setting; an ICU is marked by a `icu` code in Encounter.type. */
function settingOf(enc: Obj): Setting | undefined {
  const types = ((enc.type ?? []) as Obj[]).flatMap((t) => ((t.coding ?? []) as Obj[]).map((c) => c.code));
  if (types.includes('icu')) return 'icu';
  switch ((enc.class as Obj | undefined)?.code) {
    case 'IMP':
    case 'ACUTE':
    case 'NONAC':
      return 'inpatient';
    case 'EMER':
      return 'emergency';
    case 'AMB':
    case 'VR':
    case 'HH':
      return 'outpatient';
    default:
      return undefined;
  }
}

function ageAt(birthDate: string | undefined, now: number): number | undefined {
  if (!birthDate) return undefined;
  const b = new Date(
    birthDate.length === 4 ? `${birthDate}-07-01` : birthDate.length === 7 ? `${birthDate}-15` : birthDate,
  );
  if (Number.isNaN(b.getTime())) return undefined;
  const n = new Date(now);
  let age = n.getUTCFullYear() - b.getUTCFullYear();
  if (n.getUTCMonth() < b.getUTCMonth() || (n.getUTCMonth() === b.getUTCMonth() && n.getUTCDate() < b.getUTCDate()))
    age--;
  return age;
}

export interface ContextRequest {
  readonly patientId: string;
  /** Catalogue ids of the proposed orders. */
  readonly tests: readonly string[];
  readonly encounterId?: string;
  /** Overrides the setting read from the encounter (default outpatient). */
  readonly setting?: Setting;
  readonly organisation?: string;
  readonly now: number;
  /** Dry run: results as they were at this time. */
  readonly asOf?: number;
}

/**
 * Everything the rules read about one patient that does not depend on the request: what
 * {@link PatientContextCache} keeps in memory. `resources` names every stored resource it was
 * built from (`Type/id`), so that a write to any of them invalidates it.
 */
export interface PatientSnapshot {
  readonly patientId: string;
  readonly birthDate?: string;
  /** Latest result per catalogue test (as of the load, or of `asOf`). */
  readonly latest: ReadonlyMap<string, LatestResult>;
  readonly openOrders: readonly ExistingOrder[];
  /** Completed ServiceRequests of catalogue imaging items. */
  readonly completedImaging: readonly ExistingOrder[];
  /** Codes of the active Conditions. */
  readonly conditions: readonly string[];
  readonly resources: ReadonlySet<string>;
}

/** The source of latest results for a snapshot: the projection (now) or a search per test (as of). */
export type LatestSource = (patientId: string) => Promise<Map<string, LatestResult>>;

/** Latest results by searching the store per lab item, as of a time (dry runs). */
export const latestBySearch =
  (repo: FhirRepository, items: readonly CatalogueItem[], asOf?: number): LatestSource =>
  async (patientId) =>
    new Map(
      (
        await Promise.all(
          items
            .filter((i) => i.kind === 'lab')
            .map(async (i) => [i.id, await latestResult(repo, i, patientId, asOf)] as const),
        )
      ).filter((e): e is readonly [string, LatestResult] => e[1] !== undefined),
    );

/**
 * Loads a patient snapshot with indexed store reads only: the Patient, the latest result per test,
 * open orders (every organisation), completed imaging and active conditions. Unknown patient → 404.
 */
export async function loadPatientSnapshot(
  repo: FhirRepository,
  cat: Catalogue,
  patientId: string,
  latestOf: LatestSource,
): Promise<PatientSnapshot> {
  const patientRow = await repo.read('Patient', patientId);
  if (!patientRow || patientRow.deleted || !patientRow.json) throw Errors.notFound('Patient', patientId);
  const patient = JSON.parse(patientRow.json) as Resource;
  const subject: [string, string] = ['subject', `Patient/${patientId}`];
  const [latest, open, imaging, conditions] = await Promise.all([
    latestOf(patientId),
    openOrders(repo, cat, patientId),
    search(repo, 'ServiceRequest', [
      subject,
      ['status', 'completed'],
      [
        'code',
        cat.items
          .filter((i) => i.kind === 'imaging')
          .map(codeParam)
          .join(','),
      ],
      ['_count', '500'],
    ]),
    search(repo, 'Condition', [subject, ['clinical-status', 'active'], ['_count', '200']]),
  ]);
  const completedImaging = imaging.map((r) => existingOrder(r, cat)).filter((o): o is ExistingOrder => !!o);
  return {
    patientId,
    ...(typeof patient.birthDate === 'string' ? { birthDate: patient.birthDate } : {}),
    latest,
    openOrders: open,
    completedImaging,
    conditions: conditions.flatMap(
      (c) => ((c.code as Obj | undefined)?.coding as Obj[] | undefined)?.map((x) => String(x.code)) ?? [],
    ),
    resources: new Set([
      `Patient/${patientId}`,
      ...[...latest.values()].map((r) => `Observation/${r.observationId}`),
      ...[...open, ...completedImaging].map((o) => `ServiceRequest/${o.id}`),
      ...conditions.map((c) => `Condition/${String(c.id)}`),
    ]),
  };
}

/**
 * The evaluation context of one request from a patient snapshot: the setting (the request's, else
 * the Encounter's — one read; unknown encounter → 404), age at the evaluation time, and prior
 * imaging only when imaging is ordered (ionising exams and the ordered ones).
 */
export async function contextFromSnapshot(
  repo: FhirRepository,
  rules: CompiledRules,
  snap: PatientSnapshot,
  req: ContextRequest,
): Promise<PatientContext> {
  const cat = rules.catalogue;
  let setting = req.setting;
  if (req.encounterId) {
    const enc = await repo.read('Encounter', req.encounterId);
    if (!enc || enc.deleted || !enc.json) throw Errors.notFound('Encounter', req.encounterId);
    setting ??= settingOf(JSON.parse(enc.json) as Obj);
  }
  const ordered = new Set(req.tests.filter((t) => cat.item(t)?.kind === 'imaging'));
  const at = req.asOf ?? req.now;
  return {
    patientId: req.patientId,
    now: at,
    ageYears: ageAt(snap.birthDate, at),
    setting: setting ?? 'outpatient',
    ...(req.organisation ? { organisation: req.organisation } : {}),
    // Shared, read-only: the engine never mutates its context.
    conditions: rules.needsConditions ? snap.conditions : [],
    latest: snap.latest,
    openOrders: snap.openOrders,
    priorImaging:
      ordered.size === 0
        ? []
        : snap.completedImaging.filter((o) => ordered.has(o.test) || (cat.item(o.test)?.effectiveDoseMSv ?? 0) > 0),
  };
}

/**
 * Loads what the active rules read for one request (no cache): the latest results from the
 * projection now, or by a `subject+code, _sort=-date, _count=1` search per test as of an earlier
 * time (dry run). Unknown patient or encounter → 404 OperationOutcome.
 */
export async function loadPatientContext(
  repo: FhirRepository,
  rules: CompiledRules,
  req: ContextRequest,
  projection?: { forPatient(patientId: string): Promise<Map<string, LatestResult>> },
): Promise<PatientContext> {
  const latestOf =
    projection && req.asOf === undefined
      ? (id: string) => projection.forPatient(id)
      : latestBySearch(
          repo,
          [...new Set([...req.tests, ...rules.extraResultTests])]
            .map((t) => rules.catalogue.item(t))
            .filter((i): i is CatalogueItem => !!i),
          req.asOf,
        );
  const snap = await loadPatientSnapshot(repo, rules.catalogue, req.patientId, latestOf);
  return contextFromSnapshot(repo, rules, snap, req);
}
