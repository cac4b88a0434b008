import type { Stage, TimelineKind } from './stages.ts';

/** A reference to an organisation as FHIR carries it (resolved to a SOR code by the service). */
export interface OrgRef {
  readonly reference?: string;
  readonly identifier?: { readonly system?: string; readonly value?: string };
}

/** What an order is broken down by, as far as one resource tells. */
export interface OrderDims {
  /** The first coding's code of the order (NPU, SKS, local). */
  readonly analysis?: string;
  /** ServiceRequest.priority (routine | urgent | asap | stat). */
  readonly priority?: string;
  /** The performing section (ServiceRequest/Observation/DiagnosticReport performer). */
  readonly section?: OrgRef;
  /** The orderer's department (ServiceRequest.requester, when it names an organisation). */
  readonly department?: OrgRef;
  /** Instrument (Observation.device) or modality (ImagingStudy.modality). */
  readonly instrument?: string;
}

/**
 * One thing an indicator counts, derived from one version of one resource. `id` identifies the
 * fact across versions: the service counts a fact only when the previous version of the resource
 * did not already yield the same id, so updates never count twice.
 */
export type OpsFact =
  | {
      readonly kind: 'stage';
      readonly id: string;
      readonly key: string;
      readonly timeline: TimelineKind;
      readonly stage: Stage;
      readonly at: number;
      readonly dims: OrderDims;
    }
  | {
      readonly kind: 'specimen' | 'rejected' | 'haemolysed';
      readonly id: string;
      readonly key: string | undefined;
      readonly at: number;
      readonly dims: OrderDims;
    }
  | {
      readonly kind: 'result';
      readonly id: string;
      readonly key: string | undefined;
      readonly at: number;
      readonly dims: OrderDims;
    }
  | {
      readonly kind: 'verification';
      readonly id: string;
      readonly key: string | undefined;
      readonly at: number;
      readonly dims: OrderDims;
      /** The result-processing tag: autoverified | held | released | rejected. */
      readonly code: string;
    };

type Json = Record<string, unknown>;
type Coding = { system?: string; code?: string };

/** Tags and categories agreed with result processing (issue 7). */
export const RESULT_PROCESSING_SYSTEM = 'urn:dxhub:result-processing';
/** HL7 v2 table 0493 Specimen Condition (terminology.hl7.org CodeSystem v2-0493): HEM = Hemolyzed. */
export const SPECIMEN_CONDITION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0493';

const time = (v: unknown): number | undefined => {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
};
const refs = (v: unknown): { reference?: string }[] =>
  (Array.isArray(v) ? v : v ? [v] : []) as { reference?: string }[];
/** The first reference of `field` to `type`, as `type/id`. */
const firstRef = (v: unknown, type: string): string | undefined =>
  refs(v)
    .map((r) => r.reference)
    .find((r) => typeof r === 'string' && r.startsWith(`${type}/`));
const firstCode = (cc: unknown): string | undefined =>
  ((cc as { coding?: Coding[] } | undefined)?.coding ?? []).find((c) => c.code)?.code;
const codings = (v: unknown): Coding[] =>
  (Array.isArray(v) ? v : v ? [v] : []).flatMap((c: { coding?: Coding[] }) => c.coding ?? []);
/** The first organisation among references (an Organization reference, or a SOR identifier). */
const orgOf = (v: unknown): OrgRef | undefined =>
  (refs(v) as OrgRef[]).find((r) => r.reference?.startsWith('Organization/') || r.identifier?.value);

const IMAGING_CATEGORY = '363679005'; // SNOMED CT "Imaging" (ServiceRequest.category example binding, R4)

function serviceRequestFacts(r: Json, id: string, lastUpdated: number): OpsFact[] {
  const imaging = codings(r.category).some((c) => c.code === IMAGING_CATEGORY || c.code === 'imaging');
  const timeline: TimelineKind = imaging ? 'imaging' : 'lab';
  const key = `ServiceRequest/${id}`;
  const dims: OrderDims = {
    analysis: firstCode(r.code),
    priority: typeof r.priority === 'string' ? r.priority : 'routine',
    section: orgOf(r.performer),
    department: orgOf(r.requester),
  };
  const out: OpsFact[] = [];
  const ordered = time(r.authoredOn);
  if (ordered !== undefined)
    out.push({ kind: 'stage', id: `ordered:${key}`, key, timeline, stage: 'ordered', at: ordered, dims });
  // Imaging: a planned occurrence is the scheduled time (a Task or Appointment may say so too).
  const occurrence = time(r.occurrenceDateTime) ?? time((r.occurrencePeriod as Json | undefined)?.start);
  if (imaging && occurrence !== undefined) {
    // Scheduled no later than the version that first carries the occurrence.
    out.push({ kind: 'stage', id: `scheduled:${key}`, key, timeline, stage: 'scheduled', at: lastUpdated, dims });
  }
  return out;
}

/**
 * The facts one resource version yields (pure). `lastUpdated` (ms) stands in where a resource has
 * no time of its own. Resources that say nothing about an order yield nothing.
 */
export function factsOf(resource: Json, lastUpdated: number): OpsFact[] {
  const id = String(resource.id ?? '');
  const rt = resource.resourceType;
  const stage = (
    key: string | undefined,
    timeline: TimelineKind,
    s: Stage,
    at: number | undefined,
    dims: OrderDims = {},
  ) =>
    key && at !== undefined ? [{ kind: 'stage' as const, id: `${s}:${key}`, key, timeline, stage: s, at, dims }] : [];
  switch (rt) {
    case 'ServiceRequest':
      return serviceRequestFacts(resource, id, lastUpdated);
    case 'Specimen': {
      const key = firstRef(resource.request, 'ServiceRequest');
      const collection = resource.collection as Json | undefined;
      const collected = time(collection?.collectedDateTime) ?? time((collection?.collectedPeriod as Json)?.start);
      const received = time(resource.receivedTime);
      const at = received ?? collected ?? lastUpdated;
      const self = `Specimen/${id}`;
      const dims: OrderDims = {};
      const out: OpsFact[] = [
        ...stage(key, 'lab', 'collected', collected),
        ...stage(key, 'lab', 'received', received),
        { kind: 'specimen', id: `specimen:${self}`, key, at, dims },
      ];
      // FHIR R4 specimen-status `unsatisfactory`: not fit for analysis, i.e. rejected.
      if (resource.status === 'unsatisfactory') out.push({ kind: 'rejected', id: `rejected:${self}`, key, at, dims });
      if (codings(resource.condition).some((c) => c.system === SPECIMEN_CONDITION_SYSTEM && c.code === 'HEM')) {
        out.push({ kind: 'haemolysed', id: `haemolysed:${self}`, key, at, dims });
      }
      return out;
    }
    case 'Task': {
      if (resource.status !== 'in-progress' && resource.status !== 'completed') return [];
      const key = firstRef(resource.basedOn, 'ServiceRequest') ?? firstRef(resource.focus, 'ServiceRequest');
      const at =
        time((resource.executionPeriod as Json | undefined)?.start) ?? time(resource.lastModified) ?? lastUpdated;
      return stage(key, 'lab', 'in-analysis', at, { section: orgOf(resource.owner) });
    }
    case 'Appointment': {
      const key = firstRef(resource.basedOn, 'ServiceRequest');
      if (resource.status === 'cancelled' || resource.status === 'noshow') return [];
      return stage(key, 'imaging', 'scheduled', time(resource.created) ?? lastUpdated);
    }
    case 'Observation': {
      const key = firstRef(resource.basedOn, 'ServiceRequest');
      const at = time(resource.issued) ?? time(resource.effectiveDateTime) ?? lastUpdated;
      const self = `Observation/${id}`;
      const device = resource.device as { display?: string; reference?: string } | undefined;
      const dims: OrderDims = {
        analysis: firstCode(resource.code),
        section: orgOf(resource.performer),
        instrument: device?.display ?? device?.reference,
      };
      const out: OpsFact[] = [];
      const status = resource.status;
      if (status === 'preliminary' || status === 'registered') out.push(...stage(key, 'lab', 'in-analysis', at, dims));
      if (status === 'final' || status === 'amended' || status === 'corrected') {
        out.push(...stage(key, 'lab', 'in-analysis', at, dims), ...stage(key, 'lab', 'verified', at, dims));
        out.push({ kind: 'result', id: `result:${self}`, key, at, dims });
      }
      const tag = ((resource.meta as { tag?: Coding[] } | undefined)?.tag ?? []).find(
        (t) => t.system === RESULT_PROCESSING_SYSTEM && t.code,
      );
      if (tag) out.push({ kind: 'verification', id: `verification:${self}`, key, at, dims, code: tag.code! });
      return out;
    }
    case 'DiagnosticReport': {
      const key = firstRef(resource.basedOn, 'ServiceRequest');
      const status = resource.status;
      if (status !== 'final' && status !== 'amended' && status !== 'corrected' && status !== 'appended') return [];
      const imaging = codings(resource.category).some((c) => c.code === 'RAD' || c.code === 'imaging');
      return stage(key, imaging ? 'imaging' : 'lab', 'reported', time(resource.issued) ?? lastUpdated, {
        section: orgOf(resource.performer),
      });
    }
    case 'ImagingStudy': {
      const key = firstRef(resource.basedOn, 'ServiceRequest');
      const modality = ((resource.modality as Coding[] | undefined) ?? []).find((m) => m.code)?.code;
      return stage(key, 'imaging', 'performed', time(resource.started), { instrument: modality });
    }
    case 'CommunicationRequest': {
      const critical = codings(resource.category).some(
        (c) => c.system === RESULT_PROCESSING_SYSTEM && c.code === 'critical-value',
      );
      if (!critical) return [];
      const dims: OrderDims = { analysis: 'critical-value', section: orgOf(resource.requester) };
      return stage(`CommunicationRequest/${id}`, 'critical', 'ordered', time(resource.authoredOn), dims);
    }
    case 'Communication': {
      const at = time(resource.received) ?? time(resource.sent);
      const cr = firstRef(resource.basedOn, 'CommunicationRequest');
      if (cr) return stage(cr, 'critical', 'reported', at);
      // A Communication about the order that reached its recipient: the result was seen (E7/E8).
      return stage(firstRef(resource.basedOn, 'ServiceRequest'), 'lab', 'viewed', time(resource.received));
    }
    default:
      return [];
  }
}
