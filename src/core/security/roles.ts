import {
  covers,
  intersectScope,
  parseScopes,
  type ResourceScope,
  type Scope,
  type ScopeContext,
} from './smart-scopes.ts';

/** The roles dxhub knows. A token's `role` claim must be one of these. */
export type RoleKind =
  | 'clinician'
  | 'lab-technologist'
  | 'lab-physician'
  | 'radiographer'
  | 'radiologist'
  | 'department-manager'
  | 'integration'
  | 'researcher'
  | 'admin'
  | 'citizen';

/**
 * A role as data. Scopes cap what any token of the role can do; the flags tell the services the
 * extra rules the law attaches to the role (research note identity-and-terminology.md §6).
 */
export interface Role {
  readonly kind: RoleKind;
  readonly description: string;
  /**
   * The SMART context all of the role's scopes use, hence the `context` to pass to `permits`:
   * `patient` for citizens (patient compartment), `system` for integrations, `user` otherwise.
   */
  readonly context: ScopeContext;
  /** The most a token of this role may hold, as SMART v2 scope strings (also the default grant). */
  readonly defaultScopes: readonly string[];
  /** Sees record-level clinical data (orders, results) at all. */
  readonly clinicalData: boolean;
  /** May make results final (release a DiagnosticReport to requesters and the patient). */
  readonly releasesResults: boolean;
  /** Only aggregate counts and statistics, never single records. */
  readonly aggregatesOnly: boolean;
  /** Only pseudonymised records: no CPR, name, address or other direct identifiers. */
  readonly pseudonymisedOnly: boolean;
  /** Only the records of the patient named in the token (`patient` claim). */
  readonly ownDataOnly: boolean;
  /**
   * Looking up a patient needs a current treatment relation (Sundhedsloven § 42 a stk. 1), or a
   * logged, reasoned værdispring (§ 42 a stk. 2–3; research note §6.2).
   */
  readonly treatmentRelationRequired: boolean;
}

const IDENTITY = ['openid', 'fhirUser'] as const;
const role = (r: Role): Role => Object.freeze({ ...r, defaultScopes: Object.freeze([...r.defaultScopes]) });
const off = {
  clinicalData: false,
  releasesResults: false,
  aggregatesOnly: false,
  pseudonymisedOnly: false,
  ownDataOnly: false,
  treatmentRelationRequired: false,
} as const;

/** Every role, by kind. */
/** What the laboratory roles work with: orders, specimens, results, reports and analyzers. */
// `Provenance.rs` in the clinical roles: where a result came from (the sending lab, the source
// message); the guard allows a Provenance only for the patients of its targets (request-guard.ts).
const LAB_SCOPES = [
  ...IDENTITY,
  'user/Patient.rs',
  'user/ServiceRequest.rus',
  'user/Specimen.crus',
  'user/Observation.crus',
  'user/DiagnosticReport.crus',
  'user/Provenance.rs',
  'user/Device.rs',
] as const;

export const ROLES: Readonly<Record<RoleKind, Role>> = Object.freeze({
  clinician: role({
    ...off,
    kind: 'clinician',
    context: 'user',
    description: 'Doctor or nurse who orders tests and reads results for patients in their care',
    defaultScopes: [
      ...IDENTITY,
      'user/Patient.rs',
      'user/ServiceRequest.crus',
      'user/Specimen.rs',
      'user/Observation.rs',
      'user/DiagnosticReport.rs',
      'user/ImagingStudy.rs',
      'user/Provenance.rs',
      'user/Practitioner.rs',
      'user/Organization.rs',
    ],
    clinicalData: true,
    treatmentRelationRequired: true,
  }),
  'lab-technologist': role({
    ...off,
    kind: 'lab-technologist',
    context: 'user',
    description: 'Biomedical laboratory scientist: receives specimens, runs analyses, enters preliminary results',
    // Works on the lab's own orders as technical assistance authorised by management (§ 42 a stk. 4).
    defaultScopes: LAB_SCOPES,
    clinicalData: true,
  }),
  'lab-physician': role({
    ...off,
    kind: 'lab-physician',
    context: 'user',
    description: 'Clinical biochemist or microbiologist: validates and releases laboratory results',
    defaultScopes: LAB_SCOPES,
    clinicalData: true,
    releasesResults: true,
  }),
  radiographer: role({
    ...off,
    kind: 'radiographer',
    context: 'user',
    description: 'Performs imaging examinations and registers the studies',
    defaultScopes: [
      ...IDENTITY,
      'user/Patient.rs',
      'user/ServiceRequest.rus',
      'user/ImagingStudy.crus',
      // e.g. creatinine before contrast media.
      'user/Observation.rs',
      'user/DiagnosticReport.rs',
      'user/Provenance.rs',
    ],
    clinicalData: true,
  }),
  radiologist: role({
    ...off,
    kind: 'radiologist',
    context: 'user',
    description: 'Reports imaging studies and releases the radiology report',
    defaultScopes: [
      ...IDENTITY,
      'user/Patient.rs',
      'user/ServiceRequest.rus',
      'user/ImagingStudy.rus',
      'user/Observation.rs',
      'user/DiagnosticReport.crus',
      'user/Provenance.rs',
    ],
    clinicalData: true,
    releasesResults: true,
  }),
  'department-manager': role({
    ...off,
    kind: 'department-manager',
    context: 'user',
    description: 'Head of department: workload, turnaround times and other statistics, no patient records',
    defaultScopes: [
      ...IDENTITY,
      'user/ServiceRequest.s',
      'user/Specimen.s',
      'user/Observation.s',
      'user/DiagnosticReport.s',
      'user/ImagingStudy.s',
    ],
    aggregatesOnly: true,
  }),
  integration: role({
    ...off,
    kind: 'integration',
    context: 'system',
    description:
      'A system account: LIMS, RIS, analyser middleware, EHR or patient administration interface (no human user)',
    // Interfaces feed every kind of record (patients, encounters, consents, orders, results,
    // organisations); a token can be narrowed with `scope`. The audit log is never written through
    // the FHIR API (dxhub refuses AuditEvent writes for every role).
    defaultScopes: ['system/*.cruds'],
    clinicalData: true,
    // Relays results already released in the source LIMS/RIS.
    releasesResults: true,
  }),
  researcher: role({
    ...off,
    kind: 'researcher',
    context: 'user',
    description: 'Approved research project: pseudonymised results only',
    defaultScopes: [
      ...IDENTITY,
      'user/ServiceRequest.rs',
      'user/Specimen.rs',
      'user/Observation.rs',
      'user/DiagnosticReport.rs',
      'user/ImagingStudy.rs',
    ],
    clinicalData: true,
    pseudonymisedOnly: true,
  }),
  admin: role({
    ...off,
    kind: 'admin',
    context: 'user',
    description: 'Operates dxhub: organisations, users, devices and the audit log; no clinical data',
    defaultScopes: [
      ...IDENTITY,
      'user/Organization.cruds',
      'user/Practitioner.cruds',
      'user/PractitionerRole.cruds',
      'user/Device.cruds',
      'user/Endpoint.cruds',
      'user/AuditEvent.rs',
    ],
  }),
  citizen: role({
    ...off,
    kind: 'citizen',
    context: 'patient',
    description: 'A patient reading their own orders, results and who looked at them',
    defaultScopes: [
      ...IDENTITY,
      'launch/patient',
      'patient/Patient.rs',
      'patient/ServiceRequest.rs',
      'patient/Specimen.rs',
      'patient/Observation.rs',
      'patient/DiagnosticReport.rs',
      'patient/ImagingStudy.rs',
      'patient/Provenance.rs',
      // "Who looked at me" (MinLog-style access log, research note §5.3, §6.3).
      'patient/AuditEvent.rs',
    ],
    clinicalData: true,
    ownDataOnly: true,
  }),
});

/** The role named `name`, or `undefined` for anything else (including inherited object keys). */
export function roleOf(name: unknown): Role | undefined {
  return typeof name === 'string' && Object.hasOwn(ROLES, name) ? ROLES[name as RoleKind] : undefined;
}

/** The parsed resource scopes of {@link Role.defaultScopes}. */
export function roleScopes(role: Role): readonly ResourceScope[] {
  const parsed = parseScopes(role.defaultScopes);
  // The role table is constant and its own test parses it; a failure here is a programming error.
  if (!parsed.ok) throw new Error(`role ${role.kind}: ${parsed.reason}`);
  return parsed.scopes.filter((s): s is ResourceScope => s.kind === 'resource');
}

/**
 * What a token may hold: the intersection of the requested scopes with the role's scopes, so a
 * token never grants more than its role allows (`user/*.cruds` asked by a clinician becomes the
 * clinician's list; `user/Observation.rs` asked by an admin becomes nothing). Non-resource scopes
 * (openid, launch…) pass through.
 */
export function effectiveScopes(role: Role, requested: readonly Scope[]): readonly Scope[] {
  const allowed = roleScopes(role);
  const out: Scope[] = [];
  for (const asked of requested) {
    if (asked.kind === 'non-resource') {
      if (!out.some((s) => s.kind === 'non-resource' && s.name === asked.name)) out.push(asked);
      continue;
    }
    for (const cap of allowed) {
      const both = intersectScope(asked, cap);
      if (both) out.push(both);
    }
  }
  // Drop scopes another result already covers, so `user/*.rs` ∩ role never lists duplicates.
  return out.filter(
    (s, i) =>
      s.kind === 'non-resource' ||
      !out.some((o, j) => j !== i && o.kind === 'resource' && covers(o, s) && (!covers(s, o) || j < i)),
  );
}

/**
 * The granted resource scopes the role does not cover: each permission of each scope must come
 * from a role scope of the same context and type (or `*`) with no restriction the granted scope
 * lacks. Empty = within the role.
 */
export function scopesBeyondRole(role: Role, granted: readonly Scope[]): readonly ResourceScope[] {
  const allowed = roleScopes(role);
  return granted.filter(
    (g): g is ResourceScope =>
      g.kind === 'resource' && !g.permissions.every((p) => allowed.some((a) => covers(a, { ...g, permissions: [p] }))),
  );
}

/**
 * True when SOR unit `orgCode` is `ancestorCode` or lies below it (SOR hierarchy:
 * Institutionsejer → Sundhedsinstitution → Organisatorisk enhed; research note §5.4). `parentOf`
 * gives a unit's parent code, `undefined` at the root. Cycles in bad data end the walk (false).
 */
export function isWithin(
  orgCode: string,
  ancestorCode: string,
  parentOf: (code: string) => string | undefined,
): boolean {
  const seen = new Set<string>();
  for (let code: string | undefined = orgCode; code !== undefined; code = parentOf(code)) {
    if (code === ancestorCode) return true;
    if (seen.has(code)) return false;
    seen.add(code);
  }
  return false;
}
