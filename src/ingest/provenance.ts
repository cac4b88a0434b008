import { createHash } from 'node:crypto';
import type {
  Binary,
  Bundle,
  BundleEntry,
  Extension,
  Organization,
  Provenance,
  ProvenanceAgent,
  Reference,
} from '@medplum/fhirtypes';
import { HL7V2_SOURCE_EXTENSION, MAPPING_VERSION } from '../core/hl7/v2-to-fhir/index.ts';
import type { FhirService } from '../fhir-api/fhir-service.ts';

/** Media type of a stored HL7 v2 message (ER7 encoding; the name HL7 and FHIR servers use for it). */
export const HL7V2_CONTENT_TYPE = 'x-application/hl7-v2+er7';
/** Extension on a message's Provenance: the version of the v2 → FHIR mapping that produced the targets. */
export const MAPPING_VERSION_EXTENSION = 'http://dxhub.dk/fhir/StructureDefinition/mapping-version';
/** Extension on a message's Provenance: the id of the `hl7_inbox` row (for `dxhub inbox reprocess`). */
export const HL7_INBOX_ROW_EXTENSION = 'http://dxhub.dk/fhir/StructureDefinition/hl7-inbox-row';

const DATA_OPERATION = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

/** What an entry of a transaction will do, judged before it runs. */
export type EntryEffect = 'create' | 'update' | 'none';

/** Extension on an ASTM message's Provenance: the id of the `astm_inbox` row. */
export const ASTM_INBOX_ROW_EXTENSION = 'http://dxhub.dk/fhir/StructureDefinition/astm-inbox-row';
/**
 * Media type of a stored ASTM E1394 message (its records, each ending in CR). None is registered;
 * an `x-` subtype marks it as private, as HL7's own is.
 */
export const ASTM_CONTENT_TYPE = 'application/x-astm-e1394';
/** Version of the ASTM E1394 → FHIR mapping (`astm-to-fhir.ts`), named in its Provenances. */
export const ASTM_MAPPING_VERSION = 'dxhub-astm-to-fhir/1.0.0';

/** How the stored message of each protocol is named, typed and attributed. */
const FORMATS = {
  hl7v2: {
    label: 'HL7 v2',
    binaryPrefix: 'hl7v2',
    contentType: HL7V2_CONTENT_TYPE,
    mappingVersion: MAPPING_VERSION,
    inboxRowExtension: HL7_INBOX_ROW_EXTENSION,
    senderSystem: 'urn:dxhub:hl7v2:msh-3',
    assembler: `dxhub HL7 v2 processor (${MAPPING_VERSION})`,
  },
  astm: {
    label: 'ASTM E1394',
    binaryPrefix: 'astm',
    contentType: ASTM_CONTENT_TYPE,
    mappingVersion: ASTM_MAPPING_VERSION,
    inboxRowExtension: ASTM_INBOX_ROW_EXTENSION,
    senderSystem: 'urn:dxhub:astm:h-5',
    assembler: `dxhub ASTM processor (${ASTM_MAPPING_VERSION})`,
  },
} as const;

/** The message a Provenance is about. */
export interface SourceMessage {
  /** The protocol it came in (default `hl7v2`). */
  readonly format?: keyof typeof FORMATS;
  readonly raw: Uint8Array;
  /** SHA-256 (hex) of `raw`; computed when absent. */
  readonly contentHash?: string;
  /** Inbox row id. */
  readonly rowId?: number;
  readonly messageType: string;
  readonly controlId: string;
  /**
   * MSH-3 / MSH-4 as the mapper read them (namespace id, else universal id); for ASTM the H-5
   * sender name and no facility.
   */
  readonly sendingApplication: string;
  readonly sendingFacility: string;
}

/**
 * The id of the Binary that holds a message: `hl7v2-` and the first 40 hex digits of its SHA-256.
 * Derived from the bytes, so processing or reprocessing the message writes the same Binary (a PUT
 * that changes nothing keeps version 1), and anyone can check the Binary against its id.
 */
export function hl7MessageBinaryId(raw: Uint8Array, contentHash?: string): string {
  const hash = contentHash ?? createHash('sha256').update(raw).digest('hex');
  return `hl7v2-${hash.slice(0, 40)}`;
}

/**
 * Sender (MSH-3, MSH-4), type and control id of a mapped Bundle, from the `hl7v2-source` extension
 * the mapper puts on every resource; undefined when no resource has it.
 */
export function sourceOfBundle(bundle: Bundle): Omit<SourceMessage, 'raw' | 'contentHash' | 'rowId'> | undefined {
  for (const e of bundle.entry ?? []) {
    const ext = (e.resource as { extension?: Extension[] } | undefined)?.extension?.find(
      (x) => x.url === HL7V2_SOURCE_EXTENSION,
    );
    if (!ext) continue;
    const sub = (url: string) => ext.extension?.find((x) => x.url === url)?.valueString ?? '';
    return {
      messageType: sub('messageType'),
      controlId: sub('messageControlId'),
      sendingApplication: sub('sendingApplication'),
      sendingFacility: sub('sendingFacility'),
    };
  }
  return undefined;
}

/**
 * What each conditional entry of a transaction Bundle will do, asked of the store before the
 * transaction: a conditional create that matches writes nothing (`none`), one that does not
 * creates; a conditional update updates what it matches or creates. Other writes count as create
 * (POST) or update (PUT). Keyed by fullUrl. The answer can be overtaken by a concurrent writer
 * between the question and the transaction; the inbox processor is the only writer of these
 * identifiers, so it is not in practice.
 */
export async function entryEffects(
  service: FhirService,
  entries: readonly BundleEntry[],
): Promise<Map<string, EntryEffect>> {
  const out = new Map<string, EntryEffect>();
  for (const e of entries) {
    if (!e.fullUrl || !e.request) continue;
    const { method, url, ifNoneExist } = e.request;
    const q = url.indexOf('?');
    const type = q >= 0 ? url.slice(0, q) : (url.split('/')[0] ?? '');
    const query = method === 'POST' ? ifNoneExist : q >= 0 ? url.slice(q + 1) : undefined;
    if (method !== 'POST' && method !== 'PUT') continue;
    if (query === undefined) {
      out.set(e.fullUrl, method === 'POST' ? 'create' : 'update');
      continue;
    }
    let found: boolean;
    try {
      found = (await service.conditionalMatch(type, query, undefined, method === 'POST')) !== undefined;
    } catch {
      // Several matches: the transaction fails with the proper error; count it as an update here.
      found = true;
    }
    out.set(e.fullUrl, found ? (method === 'POST' ? 'none' : 'update') : 'create');
  }
  return out;
}

/** The fullUrls an entry-effect map says are created and updated (the two Provenances' targets). */
export function splitEffects(effects: ReadonlyMap<string, EntryEffect>): { created: string[]; updated: string[] } {
  const created: string[] = [];
  const updated: string[] = [];
  for (const [fullUrl, effect] of effects) {
    if (effect === 'create') created.push(fullUrl);
    else if (effect === 'update') updated.push(fullUrl);
  }
  return { created, updated };
}

/** Input of {@link messageProvenanceEntries}. */
export interface MessageProvenanceInput {
  readonly message: SourceMessage;
  /** References (fullUrls of the Bundle, or `Type/id`) of the resources created and updated. */
  readonly created: readonly string[];
  readonly updated: readonly string[];
  /** `Provenance.recorded` (instant). */
  readonly recorded: string;
  /** Reference of the message's Patient (Binary.securityContext: who the raw bytes are about). */
  readonly patient?: string;
  /** Further policies the run followed, e.g. the ConceptMaps applied (`url|version`). */
  readonly policies?: readonly string[];
}

/**
 * The entries that make a message traceable (integration note §5.2 item 5; V2-to-FHIR IG
 * `MSH[Provenance-Source]`): a `PUT Binary/<id>` holding the raw bytes ({@link hl7MessageBinaryId},
 * so reprocessing never adds a second Binary) and one Provenance for the resources the run creates
 * (activity v3-DataOperation CREATE) and one for those it updates (UPDATE). Each Provenance names
 * the sender (MSH-3 as the authoring Device on behalf of the MSH-4 Organization) and dxhub as the
 * assembler, has the Binary as `entity` with role `source`, and the mapping version as
 * `policy` and extension. Provenances are made per processing run, not per message: a reprocess
 * after a mapping fix is another activity, with its own time and mapping version, that writes new
 * versions of the targets; a record of each run answers "where did this version come from".
 */
export function messageProvenanceEntries(input: MessageProvenanceInput): BundleEntry[] {
  const { message } = input;
  const format = FORMATS[message.format ?? 'hl7v2'];
  const hash = message.contentHash ?? createHash('sha256').update(message.raw).digest('hex');
  const binaryId = `${format.binaryPrefix}-${hash.slice(0, 40)}`;
  const binary: Binary = {
    resourceType: 'Binary',
    id: binaryId,
    contentType: format.contentType,
    ...(input.patient ? { securityContext: { reference: input.patient } } : {}),
    data: Buffer.from(message.raw).toString('base64'),
  };
  const entries: BundleEntry[] = [{ resource: binary, request: { method: 'PUT', url: `Binary/${binaryId}` } }];
  const groups: ['CREATE' | 'UPDATE', readonly string[]][] = [
    ['CREATE', input.created],
    ['UPDATE', input.updated],
  ];
  for (const [activity, targets] of groups) {
    if (targets.length === 0) continue;
    entries.push({
      fullUrl: `urn:uuid:${crypto.randomUUID()}`,
      resource: provenance(input, binaryId, activity, targets),
      request: { method: 'POST', url: 'Provenance' },
    });
  }
  return entries;
}

function provenance(
  input: MessageProvenanceInput,
  binaryId: string,
  activity: 'CREATE' | 'UPDATE',
  targets: readonly string[],
): Provenance {
  const m = input.message;
  const format = FORMATS[m.format ?? 'hl7v2'];
  const sender = m.sendingApplication || 'unknown';
  const facility: Reference<Organization> | undefined = m.sendingFacility
    ? {
        type: 'Organization',
        identifier: { system: 'urn:dxhub:hl7v2:msh-4', value: m.sendingFacility },
        display: m.sendingFacility,
      }
    : undefined;
  const agents: ProvenanceAgent[] = [
    {
      type: { coding: [{ system: PARTICIPANT_TYPE, code: 'author', display: 'Author' }] },
      who: { type: 'Device', identifier: { system: format.senderSystem, value: sender }, display: sender },
      ...(facility ? { onBehalfOf: facility } : {}),
    },
    {
      type: { coding: [{ system: PARTICIPANT_TYPE, code: 'assembler', display: 'Assembler' }] },
      who: { type: 'Device', display: format.assembler },
    },
  ];
  return {
    resourceType: 'Provenance',
    extension: [
      { url: MAPPING_VERSION_EXTENSION, valueString: format.mappingVersion },
      ...(m.rowId !== undefined ? [{ url: format.inboxRowExtension, valueString: String(m.rowId) }] : []),
    ],
    target: targets.map((reference) => ({ reference })),
    recorded: input.recorded,
    policy: [`urn:dxhub:mapping:${format.mappingVersion}`, ...(input.policies ?? [])],
    activity: {
      coding: [{ system: DATA_OPERATION, code: activity, display: activity === 'CREATE' ? 'create' : 'revise' }],
    },
    agent: agents,
    entity: [
      {
        role: 'source',
        what: {
          reference: `Binary/${binaryId}`,
          display: `${format.label} ${m.messageType || 'message'}${m.controlId ? ` ${m.controlId}` : ''} from ${sender}${m.sendingFacility ? `^${m.sendingFacility}` : ''}`,
        },
      },
    ],
  };
}
