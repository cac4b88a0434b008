import { baseStructureDefinitions } from './definitions.ts';

let summaries: Map<string, Set<string>> | undefined;

/** Top-level elements marked `isSummary` in a resource's R4 StructureDefinition (for `_summary=true`). */
export function summaryElements(resourceType: string): Set<string> {
  if (!summaries) {
    summaries = new Map();
    for (const sd of baseStructureDefinitions()) {
      if (sd.kind !== 'resource') continue;
      const set = new Set<string>();
      for (const el of sd.snapshot?.element ?? []) {
        const parts = el.path.split('.');
        if (parts.length === 2 && (el as { isSummary?: boolean }).isSummary) set.add(parts[1]!.replace('[x]', ''));
      }
      summaries.set(sd.type, set);
    }
  }
  return summaries.get(resourceType) ?? new Set();
}
