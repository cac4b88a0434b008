import type { ConceptMap } from '@medplum/fhirtypes';
import { NPU_SYSTEM, UCUM_SYSTEM } from '../hl7/v2-to-fhir/index.ts';

/**
 * `ConceptMap.group.element.target.product.property` naming the UCUM unit results of the target
 * code are reported in (`product.value`, e.g. `mg/L`); dxhub converts a result's quantity to it.
 * R4 `product` is "other concepts that this mapping also produces", which a unit is.
 */
export const TARGET_UNIT_PROPERTY = 'http://dxhub.dk/fhir/ConceptMap/property/ucum-unit';

/**
 * The equivalences (R4 ConceptMapEquivalence) whose target code is added to a result. `equal` and
 * `equivalent` mean the same concept. `wider` and `subsumes` mean the target is broader than the local
 * code (the local test is-a target), so the target is still true of the result and a search by it should
 * find it. `narrower` and `specializes` would claim more than was measured; `inexact` and `relatedto`
 * only overlap; `unmatched` and `disjoint` say there is no target: none of these add a code.
 */
export const APPLIED_EQUIVALENCES: ReadonlySet<string> = new Set(['equivalent', 'equal', 'wider', 'subsumes']);

/** A target code a ConceptMap gives a local code. */
export interface MappedCoding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
  readonly equivalence: string;
  /** UCUM unit results of this code are reported in ({@link TARGET_UNIT_PROPERTY}). */
  readonly unit?: string;
  /** The ConceptMap that says so: `url|version`, or `ConceptMap/<id>` when it has no url. */
  readonly conceptMap: string;
}

/**
 * What the loaded ConceptMaps say about one code: the targets to add (possibly none, when every
 * element for it is `unmatched`, `narrower` …: the code was reviewed, so it is not "unmapped").
 */
export interface CodeMapping {
  readonly targets: readonly MappedCoding[];
  /** Every ConceptMap that has an element for the code. */
  readonly conceptMaps: readonly string[];
}

/** Target systems written as their FHIR URI: NPU's OID is the same code system (identity note §3.1). */
const SYSTEM_ALIASES: Readonly<Record<string, string>> = {
  'urn:oid:1.2.208.176.2.1': NPU_SYSTEM,
};

const normaliseSystem = (s: string) => SYSTEM_ALIASES[s] ?? s;

/**
 * The loaded ConceptMaps as a lookup `(source system, code) → targets`. A group's source system is
 * `group.source`, else the map's `sourceUri`; its target `group.target`, else `targetUri` (NPU's OID
 * normalised to `http://npu-terminology.org`). Retired maps and targets with `dependsOn` (a condition
 * dxhub does not evaluate) are left out; a code several maps speak of gets the targets of all.
 */
export class ConceptMapIndex {
  readonly #byCode = new Map<string, { targets: MappedCoding[]; conceptMaps: string[] }>();
  /** Number of ConceptMaps indexed. */
  readonly size: number;

  private constructor(size: number) {
    this.size = size;
  }

  /** An index of nothing: every local code is unmapped. */
  static readonly EMPTY = ConceptMapIndex.from([]);

  static from(maps: readonly ConceptMap[]): ConceptMapIndex {
    const live = maps.filter((m) => m.status !== 'retired');
    const index = new ConceptMapIndex(live.length);
    for (const map of live) index.#add(map);
    return index;
  }

  #add(map: ConceptMap): void {
    const name = map.url ? `${map.url}${map.version ? `|${map.version}` : ''}` : `ConceptMap/${map.id ?? '?'}`;
    for (const group of map.group ?? []) {
      const source = group.source ?? map.sourceUri;
      const targetSystem = group.target ?? map.targetUri;
      if (!source) continue;
      for (const element of group.element ?? []) {
        if (!element.code) continue;
        const key = `${source}\n${element.code}`;
        let entry = this.#byCode.get(key);
        if (!entry) {
          entry = { targets: [], conceptMaps: [] };
          this.#byCode.set(key, entry);
        }
        if (!entry.conceptMaps.includes(name)) entry.conceptMaps.push(name);
        for (const t of element.target ?? []) {
          if (!t.code || !targetSystem || !t.equivalence || !APPLIED_EQUIVALENCES.has(t.equivalence)) continue;
          if (t.dependsOn?.length) continue;
          const system = normaliseSystem(targetSystem);
          if (entry.targets.some((x) => x.system === system && x.code === t.code)) continue;
          const unit = t.product?.find(
            (p) => p.property === TARGET_UNIT_PROPERTY && (!p.system || p.system === UCUM_SYSTEM) && p.value,
          )?.value;
          entry.targets.push({
            system,
            code: t.code,
            ...(t.display ? { display: t.display } : {}),
            equivalence: t.equivalence,
            ...(unit ? { unit } : {}),
            conceptMap: name,
          });
        }
      }
    }
  }

  /** What the maps say about `system|code`; undefined when no map has an element for it. */
  lookup(system: string, code: string): CodeMapping | undefined {
    return this.#byCode.get(`${system}\n${code}`);
  }
}
