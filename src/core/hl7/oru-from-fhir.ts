import { encodeHl7, type Hl7SegmentInput } from './encode-hl7.ts';

type Json = Record<string, unknown>;
type Coding = { system?: string; code?: string; display?: string };
type Concept = { coding?: Coding[]; text?: string };

/** Coding systems as HL7 v2 names them (table 0396), the reverse of the inbound mapping. */
const V2_SYSTEM: Record<string, string> = {
  'http://loinc.org': 'LN',
  'http://npu-terminology.org': 'NPU',
  'urn:oid:1.2.208.176.2.1': 'NPU',
  'http://snomed.info/sct': 'SCT',
  'http://unitsofmeasure.org': 'UCUM',
};
const CPR = 'urn:oid:1.2.208.176.1.2';

/** OBX-11 / OBR-25 result status (HL7 table 0085 / 0123) from FHIR status. */
const OBX_STATUS: Record<string, string> = {
  final: 'F',
  amended: 'C',
  corrected: 'C',
  preliminary: 'P',
  registered: 'I',
  cancelled: 'X',
  'entered-in-error': 'W',
};
const OBR_STATUS: Record<string, string> = {
  final: 'F',
  amended: 'C',
  corrected: 'C',
  appended: 'C',
  preliminary: 'P',
  partial: 'A',
  registered: 'I',
  cancelled: 'X',
};

/** `2026-11-29T10:15:00+01:00` → `20261129101500+0100` (HL7 DTM keeps the offset). */
export function hl7DateTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(
    iso,
  );
  if (!m) return undefined;
  const [, y, mo = '', d = '', h = '', mi = '', s = '', z] = m;
  const zone = z === undefined ? '' : z === 'Z' ? '+0000' : z.replace(':', '');
  return `${y}${mo}${d}${h}${mi}${s}${h ? zone : ''}`;
}

/** A CWE/CE triplet from the first coding (and the second as the alternate), or the text. */
function cwe(c: Concept | undefined): string[] {
  const codings = c?.coding ?? [];
  const one = (x: Coding | undefined) =>
    x ? [x.code ?? '', x.display ?? '', V2_SYSTEM[x.system ?? ''] ?? x.system ?? ''] : ['', '', ''];
  if (codings.length === 0) return ['', c?.text ?? ''];
  return [...one(codings[0]), ...(codings[1] ? one(codings[1]) : [])];
}

function obxValue(o: Json): { type: string; value: string | string[]; units?: string[] } {
  const q = o.valueQuantity as
    | { value?: number; unit?: string; code?: string; system?: string; comparator?: string }
    | undefined;
  if (q?.value !== undefined) {
    const units = q.code
      ? [q.code, q.unit ?? '', q.system === 'http://unitsofmeasure.org' ? 'UCUM' : '']
      : [q.unit ?? ''];
    if (q.comparator) return { type: 'SN', value: [q.comparator, String(q.value)], units };
    return { type: 'NM', value: String(q.value), units };
  }
  if (typeof o.valueString === 'string') return { type: 'ST', value: o.valueString };
  if (o.valueCodeableConcept) return { type: 'CWE', value: cwe(o.valueCodeableConcept as Concept) };
  if (typeof o.valueDateTime === 'string') return { type: 'DTM', value: hl7DateTime(o.valueDateTime) ?? '' };
  if (typeof o.valueBoolean === 'boolean') return { type: 'ST', value: o.valueBoolean ? 'true' : 'false' };
  return { type: 'ST', value: '' };
}

/** What {@link buildOruR01} needs: the report, its results and the patient. */
export interface OruInput {
  readonly report: Json;
  readonly observations: readonly Json[];
  readonly patient: Json | undefined;
  /** MSH-3/4 (dxhub) and MSH-5/6 (the receiver). */
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  readonly receivingApplication: string;
  readonly receivingFacility: string;
  readonly controlId: string;
  /** MSH-7, an ISO instant. */
  readonly at: string;
  /** OBR-2 placer order number (EI: value and namespace), when the sender knows it. */
  readonly placer?: readonly [value: string, namespace: string];
}

/**
 * An ORU^R01 (HL7 v2.5.1) for a DiagnosticReport with its Observations — the reverse of the
 * inbound mapping in `v2-to-fhir/`: PID from the Patient (CPR first), OBR from the report (order
 * numbers from `basedOn` identifiers are not known here: OBR-3 carries the report id), one OBX per
 * result with its value type, units, reference range, interpretation and status. Pure.
 */
export function buildOruR01(input: OruInput): string {
  const { report, observations, patient } = input;
  const ids = ((patient?.identifier as { system?: string; value?: string }[] | undefined) ?? []).filter((i) => i.value);
  ids.sort((a, b) => Number(b.system === CPR) - Number(a.system === CPR));
  const name = ((patient?.name as { family?: string; given?: string[] }[] | undefined) ?? [])[0];
  const segments: Hl7SegmentInput[] = [
    {
      name: 'MSH',
      fields: [
        undefined,
        undefined,
        input.sendingApplication,
        input.sendingFacility,
        input.receivingApplication,
        input.receivingFacility,
        hl7DateTime(input.at),
        undefined,
        ['ORU', 'R01', 'ORU_R01'],
        input.controlId,
        'P',
        '2.5.1',
        undefined,
        undefined,
        'AL',
        'NE',
        undefined,
        'UNICODE UTF-8',
      ],
    },
    {
      name: 'PID',
      fields: [
        '1',
        undefined,
        {
          repeat: ids.map((i) =>
            i.system === CPR
              ? [i.value ?? '', '', '', ['CPR', CPR.replace('urn:oid:', ''), 'ISO'], 'NNDNK']
              : [i.value ?? '', '', '', i.system ?? ''],
          ),
        },
        undefined,
        name ? [name.family ?? '', name.given?.[0] ?? ''] : undefined,
        undefined,
        typeof patient?.birthDate === 'string' ? patient.birthDate.replaceAll('-', '') : undefined,
        patient?.gender === 'male' ? 'M' : patient?.gender === 'female' ? 'F' : patient?.gender ? 'U' : undefined,
      ],
    },
  ];
  const reportId = String(report.id ?? '');
  segments.push({
    name: 'OBR',
    fields: [
      '1',
      input.placer ? [...input.placer] : undefined,
      [reportId, 'DXHUB'],
      cwe(report.code as Concept),
      undefined,
      undefined,
      hl7DateTime(report.effectiveDateTime as string | undefined),
      ...Array(14).fill(undefined),
      hl7DateTime(report.issued as string | undefined),
      undefined,
      undefined,
      OBR_STATUS[String(report.status)] ?? 'F',
    ],
  });
  observations.forEach((o, i) => {
    const v = obxValue(o);
    const range = ((o.referenceRange as
      | { low?: { value?: number }; high?: { value?: number }; text?: string }[]
      | undefined) ?? [])[0];
    const rangeText =
      range?.low?.value !== undefined || range?.high?.value !== undefined
        ? `${range?.low?.value ?? ''}-${range?.high?.value ?? ''}`
        : range?.text;
    const flag = ((o.interpretation as Concept[] | undefined) ?? [])[0]?.coding?.[0]?.code;
    segments.push({
      name: 'OBX',
      fields: [
        String(i + 1),
        v.type,
        cwe(o.code as Concept),
        undefined,
        v.value,
        v.units,
        rangeText,
        flag,
        undefined,
        undefined,
        OBX_STATUS[String(o.status)] ?? 'F',
        undefined,
        undefined,
        hl7DateTime(o.effectiveDateTime as string | undefined),
      ],
    });
  });
  return encodeHl7(segments);
}
