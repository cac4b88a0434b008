import type { AuditAction, AuditEntry, AuditOutcome } from './audit-entry.ts';
import { maskCpr } from './mask-cpr.ts';

/**
 * FHIR R4 AuditEvent for one {@link AuditEntry}, shaped after IHE Basic Audit Log Patterns (BALP
 * 1.1, https://profiles.ihe.net/ITI/BALP/): REST interactions follow the Read / Query / Create /
 * Update / Delete profiles and their Patient* variants (`IHE.BasicAudit.PatientRead` …), a
 * denial follows the authorization-decision pattern (`IHE.BasicAudit.AuthZconsent`), break-glass
 * follows the FHIR R4 example `auditevent-example-breakglass-start`, login/logout use the DICOM
 * "User Authentication" event type with the Login/Logout subtypes (DCM 110114, 110122, 110123).
 */
export interface AuditEvent {
  readonly resourceType: 'AuditEvent';
  readonly [element: string]: unknown;
}

/** Who records the events: this dxhub instance (BALP `source`, and the server agent). */
export interface AuditSource {
  /** Name of the observing system, e.g. `dxhub@host`. */
  readonly observer: string;
  /** Base URL of the FHIR endpoint, when known. */
  readonly address?: string;
}

/** Codings carry system and code only: the profiles fix those, and displays would add ~15% to every row. */
interface Coding {
  readonly code: string;
  readonly system: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/** SOR (Sundhedsvæsenets Organisationsregister) identifier system, research note §5.4. */
const SOR_SYSTEM = 'urn:oid:1.2.208.176.1.1';
const BALP = 'https://profiles.ihe.net/ITI/BALP/CodeSystem';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

const REST: Coding = { code: 'rest', system: AUDIT_EVENT_TYPE };
/** BALP agent[client] / agent[server] types (DICOM audit participant role ids). */
const SOURCE_ROLE: Coding = { code: '110153', system: DCM };
const DESTINATION_ROLE: Coding = { code: '110152', system: DCM };
/** BALP Read/Query: the user receives the data. */
const RECIPIENT: Coding = { code: 'IRCP', system: PARTICIPATION_TYPE };
/** BALP Create/Update/Delete: user type from the `DataSources` value set. */
const AUTHOR: Coding = { code: 'AUT', system: PARTICIPATION_TYPE };
/** BALP AuthZ pattern, agent[userorg]. */
const PROVIDER_ORG: Coding = { code: 'PROV', system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass' };

/**
 * How each action is written, as data. `rest` patterns carry the BALP profile's subtype, DICOM
 * action code (C/R/U/D/E), which end of the exchange is the "Source Role ID" (BALP Read names
 * the server the source, BALP Query and the write profiles name the client) and the user's
 * participation type. Entities follow from the entry's fields (see `entities`).
 */
type EventPattern =
  | {
      readonly kind: 'rest';
      readonly interaction: string;
      readonly action: 'C' | 'R' | 'U' | 'D' | 'E';
      readonly clientIs: 'source' | 'destination';
      readonly user: Coding;
    }
  | { readonly kind: 'security'; readonly type: Coding; readonly subtype: Coding; readonly defaultPurpose?: string };

const PATTERNS: Readonly<Record<AuditAction, EventPattern>> = {
  read: { kind: 'rest', interaction: 'read', action: 'R', clientIs: 'destination', user: RECIPIENT },
  vread: { kind: 'rest', interaction: 'vread', action: 'R', clientIs: 'destination', user: RECIPIENT },
  search: { kind: 'rest', interaction: 'search-type', action: 'E', clientIs: 'source', user: RECIPIENT },
  create: { kind: 'rest', interaction: 'create', action: 'C', clientIs: 'source', user: AUTHOR },
  update: { kind: 'rest', interaction: 'update', action: 'U', clientIs: 'source', user: AUTHOR },
  patch: { kind: 'rest', interaction: 'patch', action: 'U', clientIs: 'source', user: AUTHOR },
  delete: { kind: 'rest', interaction: 'delete', action: 'D', clientIs: 'source', user: AUTHOR },
  login: {
    kind: 'security',
    type: { code: '110114', system: DCM },
    subtype: { code: '110122', system: DCM },
  },
  logout: {
    kind: 'security',
    type: { code: '110114', system: DCM },
    subtype: { code: '110123', system: DCM },
  },
  // BALP IHE.BasicAudit.AuthZconsent: "Security Alert" + AuthZ-Consent; a deny has a failure outcome
  // and outcomeDesc says why. Danish look-up rules combine role, treatment relation and consent.
  denied: {
    kind: 'security',
    type: { code: '110113', system: DCM },
    subtype: { code: 'AuthZ-Consent', system: `${BALP}/AuthZsubType` },
  },
  // FHIR R4 example AuditEvent/example-breakglass-start: purposeOfEvent ETREAT. In Danish terms a
  // "værdispring" (consent override), which MinLog must show (research note §5.3, §6.2).
  'break-glass': {
    kind: 'security',
    type: { code: '110113', system: DCM },
    subtype: { code: '110127', system: DCM },
    defaultPurpose: 'ETREAT',
  },
};

const OUTCOME_CODES: Readonly<Record<AuditOutcome, string>> = {
  success: '0',
  'minor-failure': '4',
  'serious-failure': '8',
  'major-failure': '12',
};

const REFERENCE = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

function purposeConcept(purpose: string) {
  // v3-ActReason purpose-of-use codes are upper-case letters (TREAT, ETREAT, HPAYMT …).
  return /^[A-Z]{2,12}$/.test(purpose)
    ? { coding: [{ code: purpose, system: ACT_REASON }] }
    : { text: maskCpr(purpose) };
}

/**
 * Builds the AuditEvent of an entry. Free-text values are CPR-masked ({@link maskCpr}). Members
 * are written in sorted order, so that `canonicalJson` need not copy the objects (speed only).
 */
export function buildAuditEvent(entry: AuditEntry, at: number, source: AuditSource): AuditEvent {
  const pattern = PATTERNS[entry.action];
  const purpose = entry.purpose ?? (pattern.kind === 'security' ? pattern.defaultPurpose : undefined);
  const clientIsDestination = pattern.kind === 'rest' && pattern.clientIs === 'destination';
  const client = {
    ...(entry.sourceIp ? { network: { address: entry.sourceIp, type: '2' } } : {}),
    requestor: false,
    type: { coding: [clientIsDestination ? DESTINATION_ROLE : SOURCE_ROLE] },
    who: entry.client ? { identifier: { value: entry.client } } : { display: 'unidentified client' },
  };
  const server = {
    ...(source.address ? { network: { address: source.address, type: '5' } } : {}),
    requestor: false,
    type: { coding: [clientIsDestination ? SOURCE_ROLE : DESTINATION_ROLE] },
    who: { display: source.observer },
  };
  const user = {
    ...(entry.agentName ? { name: maskCpr(entry.agentName) } : {}),
    ...(purpose ? { purposeOfUse: [purposeConcept(purpose)] } : {}),
    requestor: true,
    ...(entry.role ? { role: [{ text: maskCpr(entry.role) }] } : {}),
    ...(pattern.kind === 'rest' ? { type: { coding: [pattern.user] } } : {}),
    who: REFERENCE.test(entry.agent) ? { reference: entry.agent } : { identifier: { value: entry.agent } },
  };
  const agents: unknown[] = [user, client, server];
  if (entry.organisation) {
    agents.push({
      requestor: false,
      type: { coding: [PROVIDER_ORG] },
      who: { identifier: { system: SOR_SYSTEM, value: entry.organisation } },
    });
  }
  return {
    action: pattern.kind === 'rest' ? pattern.action : 'E',
    agent: agents,
    entity: entities(entry),
    outcome: OUTCOME_CODES[entry.outcome ?? 'success'],
    ...(entry.detail ? { outcomeDesc: maskCpr(entry.detail) } : {}),
    // The purpose is the user's (BALP agent[user].purposeOfUse); break-glass also states it for the
    // whole event, as the FHIR example does.
    ...(purpose && entry.action === 'break-glass' ? { purposeOfEvent: [purposeConcept(purpose)] } : {}),
    recorded: new Date(at).toISOString(),
    resourceType: 'AuditEvent',
    source: {
      observer: { display: source.observer },
      // security-source-type 4 "Application Server", as in the BALP examples.
      type: [{ code: '4', system: 'http://terminology.hl7.org/CodeSystem/security-source-type' }],
    },
    subtype: [
      pattern.kind === 'rest'
        ? {
            code: entry.action === 'search' && entry.query?.startsWith('?') ? 'search-system' : pattern.interaction,
            system: RESTFUL_INTERACTION,
          }
        : pattern.subtype,
    ],
    type: pattern.kind === 'rest' ? REST : pattern.type,
  };
}

/**
 * BALP entity slices: patient (entity type 1 Person, role 1 Patient), data (2 System Object,
 * 4 Domain Resource), query (2 System Object, 24 Query) and transaction (X-Request-Id).
 */
function entities(entry: AuditEntry): unknown[] {
  const out: unknown[] = [];
  if (entry.patient) {
    out.push({
      role: { code: '1', system: OBJECT_ROLE },
      type: { code: '1', system: ENTITY_TYPE },
      what: { reference: `Patient/${entry.patient}` },
    });
  }
  if (entry.resource) {
    out.push({
      role: { code: '4', system: OBJECT_ROLE },
      type: { code: '2', system: ENTITY_TYPE },
      what: { reference: maskCpr(entry.resource) },
    });
  }
  if (entry.query !== undefined) {
    // BALP Query: the raw search base64-encoded in `query`, a cleaned one in `description`. dxhub
    // masks CPR numbers before encoding: base64 is not a protection, and a search by identifier
    // would otherwise put the CPR into the log.
    const masked = maskCpr(entry.query);
    out.push({
      description: masked,
      query: Buffer.from(masked, 'utf8').toString('base64'),
      role: { code: '24', system: OBJECT_ROLE },
      type: { code: '2', system: ENTITY_TYPE },
    });
  }
  if (entry.requestId) {
    out.push({
      type: { code: 'XrequestId', system: `${BALP}/BasicAuditEntityType` },
      what: { identifier: { value: entry.requestId } },
    });
  }
  return out;
}
