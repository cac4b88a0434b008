import type { CodeableConcept, Device, Observation, Quantity, Specimen } from '@medplum/fhirtypes';
import type { AstmMessage, AstmOrder, AstmResultInContext } from '../core/astm/index.ts';
import { looksLikeUcum, toFhirDateTime, UCUM_SYSTEM } from '../core/hl7/v2-to-fhir/index.ts';
import { mapReferenceRange } from '../core/hl7/v2-to-fhir/reference-range.ts';
import { identifierQuery } from '../core/hl7/v2-to-fhir/v2-identifiers.ts';
import { INTERPRETATION, INTERPRETATION_SYSTEM } from '../core/hl7/v2-to-fhir/v2-tables.ts';

/** Identifier system of result Observations: `<sender>/<sample id>/<test code>` (see {@link astmObservationKey}). */
export const ASTM_OBSERVATION_KEY_SYSTEM = 'http://dxhub.dk/fhir/NamingSystem/astm-observation-key';
/** Identifier system of analyzers: the value is H-5.1, with `/` and H-5.3 (serial) when sent. */
export const ASTM_DEVICE_SYSTEM = 'urn:dxhub:astm:device';
/**
 * Default identifier system of a sample (tube barcode) the hub creates a Specimen for. Deployments set
 * it to the system their HL7 orders give SPM-2 (`urn:dxhub:id:<namespace>` or `urn:oid:…`), so
 * ASTM results land on the ordered Specimen; any Specimen found by the barcode value alone is used too.
 */
export const DEFAULT_ASTM_SPECIMEN_SYSTEM = 'urn:dxhub:specimen-id';

const LABORATORY: CodeableConcept = {
  coding: [
    { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' },
  ],
};
const DATA_ABSENT_SYSTEM = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';

/**
 * R-9 result status (LIS02-A2 §10.1.9) → Observation.status: F final, C correction, P preliminary,
 * S partial, I pending in the instrument, X cannot be done, R previously transmitted, V operator
 * verified, Q response to a query, M an MIC level, N information for a new order, W questionable.
 */
const RESULT_STATUS: Readonly<Record<string, Observation['status']>> = {
  F: 'final',
  C: 'corrected',
  P: 'preliminary',
  S: 'preliminary',
  I: 'registered',
  X: 'cancelled',
  R: 'final',
  V: 'final',
  Q: 'final',
  M: 'final',
  N: 'preliminary',
  W: 'preliminary',
};

/** What is known of a stored Specimen the results belong to. */
export interface AstmSpecimenContext {
  /** `Specimen/<id>`. */
  readonly reference: string;
  /** Its subject (`Patient/<id>`), copied to the Observations. */
  readonly subject?: string;
  /** Its requests (`ServiceRequest/<id>`), the Observations' `basedOn`. */
  readonly requests?: readonly string[];
}

/** Options for {@link mapAstmToFhir}. */
export interface AstmToFhirOptions {
  /** IANA zone of date-times without offset (LIS02-A2 sends local time). Default Europe/Copenhagen. */
  readonly timeZone?: string;
  /** System of Specimens created for unknown samples; default {@link DEFAULT_ASTM_SPECIMEN_SYSTEM}. */
  readonly specimenSystem?: string;
  /** Specimens already stored, by sample id (looked up by the caller). */
  readonly specimens?: ReadonlyMap<string, AstmSpecimenContext>;
}

/** A transaction Bundle as processBundle takes it. */
export interface AstmTransactionBundle {
  readonly resourceType: 'Bundle';
  readonly type: 'transaction';
  readonly entry: {
    fullUrl: string;
    resource: Device | Specimen | Observation;
    request: { method: 'POST' | 'PUT'; url: string; ifNoneExist?: string };
  }[];
}

/** The mapping of one message. */
export interface AstmToFhirResult {
  readonly bundle: AstmTransactionBundle;
  /** Observations in the Bundle. */
  readonly observations: number;
  /** Why results were left out (quality control, missing test code …). */
  readonly notes: readonly string[];
}

/** `urn:dxhub:local:astm:<H-5.1>`: the instrument's own test codes, never translated. */
export function astmLocalCodeSystem(sender: string): string {
  return `urn:dxhub:local:astm:${encodeURIComponent(sender || 'unknown')}`;
}

/**
 * The sample id of an O record: O-3.1, the specimen ID (the tube barcode the LIS assigned), which
 * names a Specimen. '' when absent.
 */
export function astmSampleId(order: AstmOrder | undefined): string {
  return order?.specimenId ?? '';
}

/**
 * What tells results of one sample apart in the Observation key: the sample id; else O-4, the
 * instrument's own specimen ID (Sysmex sends rack ^ position ^ sample number there, Afinion a
 * sequence number), which names no Specimen; else the message time and order sequence.
 */
function sampleKey(order: AstmOrder | undefined, messageTime: string): string {
  const id = astmSampleId(order);
  if (id) return id;
  const instrument = order?.instrumentSpecimenId.filter((c) => c !== '').join('^') ?? '';
  return instrument ? `instrument:${instrument}` : `~${messageTime}#${order?.sequence ?? ''}`;
}

/** The Observation key: sender, sample id and test code, `%` and `/` escaped. */
export function astmObservationKey(sender: string, sampleId: string, code: string): string {
  return [sender, sampleId, code].map((p) => p.replace(/%/g, '%25').replace(/\//g, '%2F')).join('/');
}

/**
 * One E1394 message → one FHIR transaction Bundle: the analyzer as a Device (conditional create on
 * {@link ASTM_DEVICE_SYSTEM}), a Specimen per sample not yet stored (conditional create), and an
 * Observation per R record, a conditional update keyed on sender + sample + test code so a
 * correction (R-9 = C) or a resend updates the same resource. Codes stay the instrument's
 * (`urn:dxhub:local:astm:<sender>`); units become UCUM only when they parse as UCUM. Results of
 * messages that are not production data (H-12 other than P or empty) and of control samples
 * (O-12 = Q) are not mapped. Pure: lookups happen before, in the processor.
 */
export function mapAstmToFhir(message: AstmMessage, options: AstmToFhirOptions = {}): AstmToFhirResult {
  const header = message.header;
  const sender = header.senderName;
  const codeSystem = astmLocalCodeSystem(sender);
  const zone = options.timeZone ?? 'Europe/Copenhagen';
  const entries: AstmTransactionBundle['entry'] = [];
  const notes: string[] = [];
  let n = 0;
  const fullUrl = () => `urn:uuid:00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
  const processing = header.processingId.trim().toUpperCase();
  if (processing !== '' && processing !== 'P') {
    notes.push(`H-12 processing ID "${processing}" is not production: results not mapped`);
    return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: [] }, observations: 0, notes };
  }
  const results = message.results();
  if (results.length === 0) {
    return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: [] }, observations: 0, notes };
  }
  const source = `urn:dxhub:astm:${encodeURIComponent(sender || 'unknown')}`;
  const device = deviceEntry(header.sender, fullUrl(), source);
  entries.push(device);
  const specimenRefs = new Map<string, AstmSpecimenContext>();
  const specimenSystem = options.specimenSystem ?? DEFAULT_ASTM_SPECIMEN_SYSTEM;
  const used = new Map<string, number>();
  for (const r of results) {
    const where = `R[${r.result.sequence || r.record.line}]`;
    if (r.order?.actionCode.trim().toUpperCase() === 'Q') {
      notes.push(`${where}: control sample (O-12 = Q), not mapped`);
      continue;
    }
    const code = r.result.testId.code;
    if (code === '') {
      notes.push(`${where}: no test code in R-3, not mapped`);
      continue;
    }
    const sampleId = astmSampleId(r.order);
    let specimen: AstmSpecimenContext | undefined;
    if (sampleId !== '') {
      specimen = options.specimens?.get(sampleId) ?? specimenRefs.get(sampleId);
      if (!specimen) {
        const identifier = { system: specimenSystem, value: sampleId };
        const url = fullUrl();
        entries.push({
          fullUrl: url,
          resource: { resourceType: 'Specimen', identifier: [identifier], meta: { source } },
          request: { method: 'POST', url: 'Specimen', ifNoneExist: identifierQuery(identifier) },
        });
        specimen = { reference: url };
        specimenRefs.set(sampleId, specimen);
      }
    }
    let key = astmObservationKey(sender, sampleKey(r.order, header.dateTime), code);
    const seen = (used.get(key) ?? 0) + 1;
    used.set(key, seen);
    // ARCHITECT sends the value, the interpretation and the raw signal of one assay as three R records.
    if (seen > 1) key = `${key}#${seen}`;
    const observation = mapResult(r, { codeSystem, zone, source, key, device: device.fullUrl, specimen });
    entries.push({
      fullUrl: fullUrl(),
      resource: observation,
      request: {
        method: 'PUT',
        url: `Observation?${identifierQuery({ system: ASTM_OBSERVATION_KEY_SYSTEM, value: key })}`,
      },
    });
  }
  const observations = entries.filter((e) => e.resource.resourceType === 'Observation').length;
  if (observations === 0) entries.length = 0;
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, observations, notes };
}

function deviceEntry(h5: readonly string[], url: string, source: string): AstmTransactionBundle['entry'][number] {
  const [name = '', version = '', serial = ''] = h5;
  const value = serial ? `${name}/${serial}` : name || 'unknown';
  const identifier = { system: ASTM_DEVICE_SYSTEM, value };
  const device: Device = {
    resourceType: 'Device',
    meta: { source },
    identifier: [identifier],
    ...(name ? { deviceName: [{ name, type: 'model-name' }] } : {}),
    ...(serial ? { serialNumber: serial } : {}),
    ...(version ? { version: [{ value: version }] } : {}),
  };
  return {
    fullUrl: url,
    resource: device,
    request: { method: 'POST', url: 'Device', ifNoneExist: identifierQuery(identifier) },
  };
}

interface ResultLinks {
  readonly codeSystem: string;
  readonly zone: string;
  readonly source: string;
  readonly key: string;
  readonly device: string;
  readonly specimen: AstmSpecimenContext | undefined;
}

function mapResult(r: AstmResultInContext, l: ResultLinks): Observation {
  const res = r.result;
  const t = res.testId;
  const status = RESULT_STATUS[res.status.trim().toUpperCase()] ?? 'unknown';
  const units = unitParts(res.units);
  const value = mapValue(res.value, units);
  const range = mapReferenceRange(res.referenceRange, units);
  const interpretation = res.abnormalFlags.map((f): CodeableConcept => {
    const display = INTERPRETATION[f.toUpperCase()];
    return display
      ? { coding: [{ system: INTERPRETATION_SYSTEM, code: f.toUpperCase(), display }] }
      : { coding: [{ system: `${l.codeSystem}:abnormal-flag`, code: f }] };
  });
  const effective =
    dateTime(r.order?.collectionDateTime, l.zone) ??
    dateTime(res.startedDateTime, l.zone) ??
    dateTime(res.completedDateTime, l.zone);
  const completed = dateTime(res.completedDateTime, l.zone);
  const note = r.comments.map((c) => c.text).filter((x) => x !== '');
  const absent = value === undefined && status === 'cancelled' ? 'not-performed' : undefined;
  return {
    resourceType: 'Observation',
    meta: { source: l.source },
    identifier: [{ system: ASTM_OBSERVATION_KEY_SYSTEM, value: l.key }],
    ...(l.specimen?.requests?.length ? { basedOn: l.specimen.requests.map((reference) => ({ reference })) } : {}),
    status,
    category: [LABORATORY],
    code: {
      coding: [{ system: l.codeSystem, code: t.code, ...(t.name && t.name !== t.code ? { display: t.name } : {}) }],
      text: t.name || t.code,
    },
    ...(l.specimen?.subject ? { subject: { reference: l.specimen.subject } } : {}),
    ...(effective ? { effectiveDateTime: effective } : {}),
    // `issued` is an instant: only a completion time with seconds qualifies.
    ...(completed && completed.length > 19 ? { issued: completed } : {}),
    ...(res.operator ? { performer: [{ display: res.operator }] } : {}),
    ...(value ?? {}),
    ...(absent ? { dataAbsentReason: { coding: [{ system: DATA_ABSENT_SYSTEM, code: absent }] } } : {}),
    ...(interpretation.length ? { interpretation } : {}),
    ...(note.length ? { note: note.map((text) => ({ text })) } : {}),
    ...(l.specimen ? { specimen: { reference: l.specimen.reference } } : {}),
    device: { reference: l.device },
    ...(range ? { referenceRange: [range] } : {}),
  };
}

/** R-5 units: UCUM code and system when the text is a UCUM expression, else unit text only. */
function unitParts(units: string): { unit?: string; system?: string; code?: string } {
  const u = units.trim();
  if (u === '') return {};
  return looksLikeUcum(u) ? { unit: u, system: UCUM_SYSTEM, code: u } : { unit: u };
}

const NUMERIC = /^(<=|>=|<|>)?\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?)$/;

/** → valueQuantity (with a comparator for `< 1.20`), else valueString; undefined when empty. */
function mapValue(
  text: string,
  units: ReturnType<typeof unitParts>,
): { valueQuantity: Quantity } | { valueString: string } | undefined {
  const v = text.trim();
  if (v === '') return undefined;
  const m = NUMERIC.exec(v);
  if (!m) return { valueString: v };
  const comparator = m[1] as Quantity['comparator'] | undefined;
  const value = Number((m[2] as string).replace(',', '.'));
  if (!Number.isFinite(value)) return { valueString: v };
  return { valueQuantity: { value, ...(comparator ? { comparator } : {}), ...units } };
}

/**
 * An E1394 date-time (local instrument time) → FHIR dateTime in `zone`; undefined when empty,
 * malformed or a placeholder before 1900 (Phadia sends 18991230000000 for "none").
 */
function dateTime(value: string | undefined, zone: string): string | undefined {
  const v = value?.trim() ?? '';
  if (!/^\d{8}(\d{2}){0,3}$/.test(v) || v < '1900') return undefined;
  const r = toFhirDateTime(v, zone);
  return r.ok ? r.value.fhir : undefined;
}
