import { type Hl7Error, hl7Error } from './hl7-errors.ts';
import { parseHl7Numeric } from './hl7-numeric.ts';
import type { Hl7Repetition } from './hl7-repetition.ts';
import { err, ok, type Result } from './result.ts';

/** SN.1 comparators (HL7 v2.5.1 ch. 2A, SN data type). */
export type Hl7SnComparator = '>' | '<' | '>=' | '<=' | '=' | '<>';
/** SN.3 separator/suffix: range `-`, ratio `/` or `:`, `+` "or more", `.` decimal-like. */
export type Hl7SnSeparator = '-' | '+' | '/' | '.' | ':';

/** A structured numeric, e.g. `>^100`, `^1^:^128`, `^10^-^20`; numbers as FHIR decimal text. */
export interface Hl7Sn {
  readonly comparator?: Hl7SnComparator;
  readonly num1?: string;
  readonly separator?: Hl7SnSeparator;
  readonly num2?: string;
}

const COMPARATORS = new Set<string>(['>', '<', '>=', '<=', '=', '<>']);
const SEPARATORS = new Set<string>(['-', '+', '/', '.', ':']);

/** Reads and checks an SN value: comparator and separator from the allowed sets, numbers NM. */
export function parseSn(rep: Hl7Repetition): Result<Hl7Sn, Hl7Error> {
  const [comparator, n1, separator, n2] = [1, 2, 3, 4].map((i) => rep.component(i).trim()) as [
    string,
    string,
    string,
    string,
  ];
  const bad = (why: string) => err(hl7Error('invalid-structured-numeric', { detail: `"${rep.raw}" ${why}` }));
  if (comparator !== '' && !COMPARATORS.has(comparator)) return bad('has an unknown comparator');
  if (separator !== '' && !SEPARATORS.has(separator)) return bad('has an unknown separator/suffix');
  if (n1 === '' && n2 === '') return bad('has no number');
  if (n2 !== '' && separator === '') return bad('has a second number without separator');
  const num = (v: string) => (v === '' ? undefined : parseHl7Numeric(v));
  const a = num(n1);
  const b = num(n2);
  if ((a && !a.ok) || (b && !b.ok)) return bad('has a non-numeric number');
  return ok({
    ...(comparator ? { comparator: comparator as Hl7SnComparator } : {}),
    ...(a?.ok ? { num1: a.value.decimal } : {}),
    ...(separator ? { separator: separator as Hl7SnSeparator } : {}),
    ...(b?.ok ? { num2: b.value.decimal } : {}),
  });
}
