import type { Identifier } from '@medplum/fhirtypes';
import {
  CPR_SYSTEM,
  classifyPersonIdentifier,
  D_ECPR_SYSTEM,
  personIdentifierKindOfSystem,
  X_ECPR_SYSTEM,
} from '../../identity/index.ts';
import type { Hl7Cx } from '../hl7-cx.ts';
import type { Hl7Hd } from '../hl7-hd.ts';
import type { Hl7Ei } from '../read-obr.ts';

/** HL7 table 0203 identifier types (`Identifier.type`, V2-to-FHIR IG `CX[Identifier]`). */
export const V2_0203_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0203';

/** CX.5 type codes and CX.4 namespaces that mark a Danish CPR number (HL7 table 0203 `NNDNK`). */
const CPR_NAMESPACES = new Set(['CPR', 'NNDNK']);

/**
 * The system URI for an HL7 assigning authority (HD): an ISO universal ID becomes `urn:oid:`, a
 * UUID `urn:uuid:`, a URI is used as is; a namespace alone becomes `urn:dxhub:id:<namespace>`.
 * Undefined when the HD is empty.
 */
export function systemFromHd(hd: Hl7Hd | undefined): string | undefined {
  if (!hd) return undefined;
  const uid = hd.universalId?.trim();
  const type = hd.universalIdType?.toUpperCase();
  if (uid) {
    if ((type === 'ISO' || type === undefined) && /^[0-2](\.\d+)+$/.test(uid)) return `urn:oid:${uid}`;
    if (type === 'UUID' || type === 'GUID') return `urn:uuid:${uid.toLowerCase()}`;
    if ((type === 'URI' || type === 'URL') && /^[a-z][a-z0-9+.-]*:\S+$/i.test(uid)) return uid;
  }
  const ns = hd.namespaceId?.trim() || uid;
  return ns ? `urn:dxhub:id:${encodeURIComponent(ns)}` : undefined;
}

/** The fallback identifier system when no assigning authority was sent: the sender itself. */
export function senderIdentifierSystem(sendingApplication: string, sendingFacility: string): string {
  return `urn:dxhub:id:${encodeURIComponent(sendingApplication || 'unknown')}:${encodeURIComponent(sendingFacility || 'unknown')}`;
}

/** A mapped CX with the finding the caller should warn about, if any. */
export interface MappedCx {
  readonly identifier: Identifier & { system: string; value: string };
  readonly kind: 'cpr' | 'x-ecpr' | 'd-ecpr' | 'other';
  readonly warning?: string;
}

/**
 * Maps one CX (e.g. a PID-3 repetition). A CPR is recognised by CX.4 (`CPR`, the CPR OID
 * 1.2.208.176.1.2) or CX.5 `NNDNK`, and written as DK-core expects: system `urn:oid:1.2.208.176.1.2`,
 * ten digits, `use = official`; a replacement CPR sent under the CPR authority gets the X-eCPR or
 * D-eCPR system. An invalid CPR keeps the CPR system (the sender asserted it) with a warning, so the
 * identity service, not the mapper, decides. Other identifiers take their system from CX.4.
 */
export function mapCx(cx: Hl7Cx, fallbackSystem: string): MappedCx | undefined {
  const value = cx.id.trim();
  if (value === '') return undefined;
  const type = cx.typeCode ? { type: { coding: [{ system: V2_0203_SYSTEM, code: cx.typeCode }] } } : {};
  const authoritySystem = systemFromHd(cx.assigningAuthority);
  const authorityKind = authoritySystem?.startsWith('urn:oid:')
    ? personIdentifierKindOfSystem(authoritySystem)
    : undefined;
  const namespace = cx.assigningAuthority?.namespaceId?.toUpperCase();
  const person =
    authorityKind !== undefined ||
    (namespace !== undefined && CPR_NAMESPACES.has(namespace)) ||
    cx.typeCode?.toUpperCase() === 'NNDNK';
  if (person) {
    const c = classifyPersonIdentifier(value);
    if (c.kind === 'cpr') {
      return { kind: 'cpr', identifier: { use: 'official', ...type, system: CPR_SYSTEM, value: c.cpr.cpr } };
    }
    if (c.kind === 'x-ecpr') {
      return {
        kind: 'x-ecpr',
        identifier: { use: 'temp', ...type, system: X_ECPR_SYSTEM, value: c.replacement.value },
      };
    }
    if (c.kind === 'd-ecpr') {
      const system = authorityKind === 'd-ecpr' && authoritySystem ? authoritySystem : D_ECPR_SYSTEM;
      return { kind: 'd-ecpr', identifier: { use: 'temp', ...type, system, value: c.replacement.value } };
    }
    const system = authorityKind && authorityKind !== 'cpr' && authoritySystem ? authoritySystem : CPR_SYSTEM;
    return {
      kind: 'other',
      identifier: { use: 'official', ...type, system, value: value.replace(/^(\d{6})-(\d{4})$/, '$1$2') },
      warning: `PID-3 "${value}" is sent as a CPR/eCPR but is not valid (${c.kind === 'invalid' ? c.reason : c.kind}); kept for the identity service`,
    };
  }
  return { kind: 'other', identifier: { ...type, system: authoritySystem ?? fallbackSystem, value } };
}

/** Maps an EI (placer/filler order number, specimen ID); system from EI.2–EI.4, else `fallbackSystem`. */
export function mapEi(ei: Hl7Ei, fallbackSystem: string): (Identifier & { system: string; value: string }) | undefined {
  const value = ei.id.trim();
  if (value === '') return undefined;
  const hd: Hl7Hd = {
    ...(ei.namespaceId ? { namespaceId: ei.namespaceId } : {}),
    ...(ei.universalId ? { universalId: ei.universalId } : {}),
    ...(ei.universalIdType ? { universalIdType: ei.universalIdType } : {}),
  };
  return { system: systemFromHd(hd) ?? fallbackSystem, value };
}

/**
 * A conditional search for one identifier, `identifier=<system>|<value>`, with FHIR search escaping
 * (`\`, `|`, `,`, `$`; FHIR R4 search §3.1.1.5.1) and URL encoding, as `ifNoneExist` or after `?`.
 */
export function identifierQuery(identifier: { system: string; value: string }, param = 'identifier'): string {
  const esc = (s: string) => encodeURIComponent(s.replace(/[\\|,$]/g, '\\$&'));
  return `${param}=${esc(identifier.system)}|${esc(identifier.value)}`;
}
