import { allResourceTypes } from '../core/fhir/definitions.ts';
import { searchParams } from '../core/fhir/search-parameters.ts';

let cached: { base: string; text: string } | undefined;

const INTERACTIONS = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'history-type',
  'create',
  'search-type',
];

/**
 * The CapabilityStatement (R4 §3.1.0.9): lists exactly what works — every resource type with the
 * interactions above, the search parameters that are indexed (plus `_id`, `_lastUpdated`), the
 * reference parameters usable in `_include`/`_revinclude`, and batch/transaction/history-system.
 */
export function capabilityStatement(baseUrl: string): string {
  if (cached?.base === baseUrl) return cached.text;
  // `_revinclude` works for every reference parameter that can point at the type.
  const revIncludes = new Map<string, string[]>();
  for (const source of allResourceTypes()) {
    for (const p of searchParams(source).values()) {
      if (p.type !== 'reference' || !p.indexed) continue;
      for (const target of p.target) {
        const list = revIncludes.get(target) ?? [];
        list.push(`${source}:${p.code}`);
        revIncludes.set(target, list);
      }
    }
  }
  const resource = allResourceTypes().map((type) => {
    const params = [...searchParams(type).values()].filter(
      (p) => p.indexed || (p.type === 'composite' && p.components),
    );
    const refs = params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`);
    return {
      type,
      interaction: INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'not-supported',
      conditionalUpdate: true,
      conditionalDelete: 'single',
      referencePolicy: ['literal', 'logical'],
      searchInclude: refs,
      searchRevInclude: revIncludes.get(type) ?? [],
      ...(type === 'Patient'
        ? {
            operation: [
              { name: 'merge', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-merge' },
              { name: 'unmerge', definition: 'http://dxhub.dk/fhir/OperationDefinition/Patient-unmerge' },
            ],
          }
        : {}),
      searchParam: [
        { name: '_id', type: 'token' },
        { name: '_lastUpdated', type: 'date' },
        ...params
          .filter((p) => p.code !== '_id' && p.code !== '_lastUpdated')
          .map((p) => ({
            name: p.code,
            definition: `http://hl7.org/fhir/SearchParameter/${p.resourceType}-${p.code}`,
            type: p.type,
          })),
      ],
    };
  });
  const cs = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-29',
    kind: 'instance',
    software: { name: 'dxhub', version: '0.1.0' },
    implementation: { description: 'dxhub FHIR R4 server', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        searchParam: [
          { name: '_count', type: 'number' },
          { name: '_sort', type: 'string' },
          { name: '_include', type: 'string' },
          { name: '_revinclude', type: 'string' },
          { name: '_summary', type: 'token' },
          { name: '_elements', type: 'string' },
          { name: '_total', type: 'token' },
        ],
      },
    ],
  };
  cached = { base: baseUrl, text: JSON.stringify(cs) };
  return cached.text;
}
