import type { CodeableConcept, DiagnosticReport } from '@medplum/fhirtypes';
import { parseCwe } from '../hl7-coded.ts';
import { notes, type OrderIdentifiers, orderIdentifierList } from './map-service-request.ts';
import type { MappingContext } from './mapping-context.ts';
import type { OrderGroup } from './message-groups.ts';
import { identifierQuery } from './v2-identifiers.ts';
import { REPORT_STATUS } from './v2-tables.ts';

/** R5 `DiagnosticReport.note` as an R4 cross-version extension: OBR-level NTE have no R4 element. */
export const REPORT_NOTE_EXTENSION = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-DiagnosticReport.note';

/** What a DiagnosticReport refers to. */
export interface ReportLinks {
  readonly patient: string;
  readonly encounter?: string;
  readonly basedOn?: string;
  readonly specimens: readonly string[];
  readonly results: readonly string[];
  readonly effective?: string;
  readonly issued?: string;
}

/**
 * OBR → DiagnosticReport (V2-to-FHIR IG `OBR[DiagnosticReport]`): OBR-2/3 → identifier (PLAC/FILL),
 * OBR-4 → code, OBR-24 → category (default LAB), OBR-7 → effective, OBR-22 → issued, OBR-25 →
 * status, results and specimens by reference. A conditional update on the filler number (else the
 * placer number), so a corrected report (OBR-25 = C) replaces the earlier version of the same report.
 */
export function mapDiagnosticReport(
  ctx: MappingContext,
  order: OrderGroup,
  ids: OrderIdentifiers,
  links: ReportLinks,
): string {
  const where = ids.where;
  const obr = order.obr?.segment;
  const statusCode = obr?.get(25).trim().toUpperCase() ?? '';
  const status = REPORT_STATUS[statusCode];
  if (!status) {
    ctx.warn(
      statusCode === ''
        ? `${where}-25 result status is empty; DiagnosticReport status unknown`
        : `${where}-25 result status "${statusCode}" is not in table 0123; DiagnosticReport status unknown`,
    );
  }
  if (!ids.filler) ctx.warn(`${where} has no filler order number; DiagnosticReport keyed on the placer number`);
  const code: CodeableConcept = (obr ? ctx.codeableConcept(parseCwe(obr.field(4)), `${where}-4`) : undefined) ?? {
    text: 'Laboratory report',
  };
  const section = obr?.get(24).trim();
  const category: CodeableConcept = {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: section || 'LAB' }],
  };
  const note = notes(order.notes);
  const report: DiagnosticReport = ctx.stamp(
    {
      resourceType: 'DiagnosticReport',
      ...(note.length ? { extension: note.map((n) => ({ url: REPORT_NOTE_EXTENSION, valueAnnotation: n })) } : {}),
      identifier: orderIdentifierList(ids),
      ...(links.basedOn ? { basedOn: [{ reference: links.basedOn }] } : {}),
      status: status ?? 'unknown',
      category: [category],
      code,
      subject: { reference: links.patient },
      ...(links.encounter ? { encounter: { reference: links.encounter } } : {}),
      ...(links.effective ? { effectiveDateTime: links.effective } : {}),
      ...(links.issued ? { issued: links.issued } : {}),
      ...(links.specimens.length ? { specimen: links.specimens.map((reference) => ({ reference })) } : {}),
      ...(links.results.length ? { result: links.results.map((reference) => ({ reference })) } : {}),
    },
    where,
  );
  const key = ids.filler ?? ids.key;
  return ctx.bundle.add(report, { method: 'PUT', query: identifierQuery(key) }).fullUrl;
}
