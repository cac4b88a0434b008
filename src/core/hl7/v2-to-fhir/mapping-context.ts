import type { CodeableConcept, Coding, Extension, Meta, Resource } from '@medplum/fhirtypes';
import type { Hl7Coded } from '../hl7-coded.ts';
import type { Hl7Hd } from '../hl7-hd.ts';
import { hdFromParts } from '../hl7-hd.ts';
import type { Hl7Message } from '../hl7-message.ts';
import { DEFAULT_TIME_ZONE, toFhirDateTime } from './local-date-time.ts';
import { TransactionBuilder } from './transaction-builder.ts';
import { localSystemBase, resolveCodeSystem } from './v2-code-systems.ts';
import { senderIdentifierSystem } from './v2-identifiers.ts';
import { MAPPING_VERSION } from './v2-to-fhir-result.ts';

/** The extension on every mapped resource naming the message it came from (for Provenance). */
export const HL7V2_SOURCE_EXTENSION = 'http://dxhub.dk/fhir/StructureDefinition/hl7v2-source';

/** Options for the mapper. */
export interface V2ToFhirOptions {
  /** IANA zone for date-times without an offset; default `Europe/Copenhagen`. */
  readonly timeZone?: string;
}

/** Per-message state shared by the segment mappers: sender, warnings, Bundle and conversions. */
export class MappingContext {
  readonly message: Hl7Message;
  readonly controlId: string;
  /** `ORU^R01`. */
  readonly messageType: string;
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  /** `urn:dxhub:local:<MSH-3>:<MSH-4>`, the base of sender-local code systems. */
  readonly localBase: string;
  /** Identifier system used when an identifier carries no assigning authority. */
  readonly senderSystem: string;
  readonly timeZone: string;
  readonly bundle: TransactionBuilder;
  readonly warnings: string[] = [];
  readonly #warned = new Set<string>();

  constructor(message: Hl7Message, options: V2ToFhirOptions = {}) {
    this.message = message;
    this.controlId = message.controlId;
    const type = message.messageType;
    this.messageType = type.trigger ? `${type.code}^${type.trigger}` : type.code;
    this.sendingApplication = hdText(hdFromParts(message.header.field(3).components()));
    this.sendingFacility = hdText(hdFromParts(message.header.field(4).components()));
    this.localBase = localSystemBase(this.sendingApplication, this.sendingFacility);
    this.senderSystem = senderIdentifierSystem(this.sendingApplication, this.sendingFacility);
    this.timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
    this.bundle = new TransactionBuilder(`${this.sendingApplication}|${this.sendingFacility}|${this.controlId}`);
  }

  /** Records a warning once; `key` (default: the text) says what counts as the same warning. */
  warn(text: string, key: string = text): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.warnings.push(text);
  }

  /**
   * A DTM/TS as FHIR dateTime (offset-less values are local time in {@link timeZone}); undefined
   * when empty. An invalid value is left out with a warning: only OBX-5 values are fatal.
   */
  dateTime(value: string, where: string): string | undefined {
    const v = value.trim();
    if (v === '' || v === '""') return undefined;
    const r = toFhirDateTime(v, this.timeZone);
    if (!r.ok) {
      this.warn(`${where} "${v}" left out: ${r.error.reason}`);
      return undefined;
    }
    if (r.value.localTime === 'ambiguous') {
      this.warn(
        `${where} "${v}" occurs twice in ${this.timeZone} (end of daylight saving time); read as the first occurrence ${r.value.fhir}`,
      );
    } else if (r.value.localTime === 'nonexistent') {
      this.warn(
        `${where} "${v}" does not exist in ${this.timeZone} (start of daylight saving time); read as ${r.value.fhir}`,
      );
    }
    return r.value.fhir;
  }

  /** A DTM/TS as FHIR `instant`: needs a time; a date-only value is left out with a warning. */
  instant(value: string, where: string): string | undefined {
    const fhir = this.dateTime(value, where);
    if (fhir === undefined || fhir.includes('T')) return fhir;
    this.warn(`${where} "${value.trim()}" has no time and cannot be a FHIR instant; left out`);
    return undefined;
  }

  /**
   * A Coding from code, display and CWE.3 system name. The code is kept exactly as sent (trimmed);
   * a sender-local system is reported once per code so unmapped local codes are visible.
   */
  coding(
    code: string | undefined,
    display: string | undefined,
    systemName: string | undefined,
    where: string,
  ): Coding | undefined {
    const c = code?.trim();
    if (!c) return undefined;
    const { system, local } = resolveCodeSystem(systemName, this.localBase);
    if (local) {
      this.warn(
        `Local code "${c}" (coding system "${systemName ?? ''}", first in ${where}) kept as ${system}`,
        `local ${system}|${c}`,
      );
    }
    const normalised = c.replace(/\s+/g, ' ');
    if (normalised !== c)
      this.warn(`${where} code "${c}" had repeated white space, which FHIR codes cannot hold; collapsed`);
    const d = display?.trim();
    return { system, code: normalised, ...(d ? { display: d } : {}) };
  }

  /** A CWE/CE as CodeableConcept (primary and alternate coding, original text); undefined when empty. */
  codeableConcept(c: Hl7Coded, where: string): CodeableConcept | undefined {
    const codings = [
      this.coding(c.code, c.display, c.system, where),
      this.coding(c.altCode, c.altDisplay, c.altSystem, where),
    ].filter((x): x is Coding => x !== undefined);
    const text = (c.originalText ?? (codings.length === 0 ? c.display : undefined))?.trim();
    if (codings.length === 0 && !text) return undefined;
    return { ...(codings.length ? { coding: codings } : {}), ...(text ? { text } : {}) };
  }

  /** `meta.source` and the source extension, naming this message and the segment a resource came from. */
  stamp<T extends Resource>(resource: T, segment: string): T {
    const meta: Meta = {
      source: `urn:dxhub:hl7v2:${encodeURIComponent(this.sendingApplication || 'unknown')}:${encodeURIComponent(this.sendingFacility || 'unknown')}#${encodeURIComponent(this.controlId)}`,
    };
    const sub = (url: string, value: string): Extension[] => (value ? [{ url, valueString: value }] : []);
    const ext: Extension = {
      url: HL7V2_SOURCE_EXTENSION,
      extension: [
        ...sub('messageControlId', this.controlId),
        ...sub('messageType', this.messageType),
        ...sub('sendingApplication', this.sendingApplication),
        ...sub('sendingFacility', this.sendingFacility),
        ...sub('segment', segment),
        ...sub('mappingVersion', MAPPING_VERSION),
      ],
    };
    const withExt = resource as T & { extension?: Extension[] };
    return { ...resource, meta, extension: [...(withExt.extension ?? []), ext] };
  }
}

function hdText(hd: Hl7Hd | undefined): string {
  return (hd?.namespaceId ?? hd?.universalId ?? '').trim();
}
