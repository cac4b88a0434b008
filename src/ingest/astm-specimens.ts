import { type FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import type { Resource } from '../store/repository.ts';

/** A stored resource with the fields the ASTM services read. */
export type AstmStoredResource = Resource & {
  subject?: { reference?: string };
  request?: { reference?: string }[];
};

/** Runs a search as the system and returns the matching resources. */
export async function searchAll(
  service: FhirService,
  type: string,
  params: [string, string][],
): Promise<AstmStoredResource[]> {
  const r = await service.search(type, [...params, ['_count', '100']], INTERNAL);
  const bundle = JSON.parse(r.body ?? '{}') as {
    entry?: { resource: AstmStoredResource; search?: { mode?: string } }[];
  };
  return (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource);
}

/**
 * The Specimens a tube barcode names: those with the identifier in `system`; else those with the
 * barcode as identifier in any system (an HL7 order's SPM-2 under its assigning authority); else
 * those with it as accession identifier (an order number used as the tube label).
 */
export async function findSpecimensBySampleId(
  service: FhirService,
  sampleId: string,
  system: string,
): Promise<AstmStoredResource[]> {
  const value = escapeToken(sampleId);
  const own = await searchAll(service, 'Specimen', [['identifier', `${escapeToken(system)}|${value}`]]);
  if (own.length > 0) return own;
  const any = await searchAll(service, 'Specimen', [['identifier', value]]);
  if (any.length > 0) return any;
  return searchAll(service, 'Specimen', [['accession', value]]);
}

/** FHIR search escaping of a token part (`\\`, `|`, `,`, `$`; R4 search §3.1.1.5.1). */
export function escapeToken(s: string): string {
  return s.replace(/[\\|,$]/g, '\\$&');
}
