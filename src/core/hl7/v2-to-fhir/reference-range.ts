import type { ObservationReferenceRange, Quantity } from '@medplum/fhirtypes';
import type { UnitParts } from './observation-value.ts';

const NUMBER = String.raw`[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)`;
const RANGE = new RegExp(String.raw`^(${NUMBER})\s*(?:-|–|—|_|\.\.|to)\s*(${NUMBER})$`, 'i');
const UPPER = new RegExp(String.raw`^(?:<|<=|≤)\s*(${NUMBER})$`);
const LOWER = new RegExp(String.raw`^(?:>|>=|≥)\s*(${NUMBER})$`);

/**
 * OBX-7 reference range → `Observation.referenceRange` (IG maps OBX-7 to `referenceRange.text`;
 * dxhub also parses the usual forms so decision support can compare numbers): `3.5-5.0`, `3,5 - 5,0`,
 * `70_105`, `4.3 to 6.2` → low and high; `<5`, `<=5` → high; `>10`, `>=10` → low. The text is always
 * kept, since `<5` (exclusive) and `≤5` differ and low/high cannot say so. Anything else is text only.
 */
export function mapReferenceRange(text: string, units: UnitParts): ObservationReferenceRange | undefined {
  const t = text.trim();
  if (t === '' || t === '""') return undefined;
  const q = (n: string): Quantity => ({ value: Number(n.replace(',', '.')), ...units });
  const range = RANGE.exec(t);
  if (range) return { low: q(range[1] as string), high: q(range[2] as string), text: t };
  const upper = UPPER.exec(t);
  if (upper) return { high: q(upper[1] as string), text: t };
  const lower = LOWER.exec(t);
  if (lower) return { low: q(lower[1] as string), text: t };
  return { text: t };
}
