import type { Hl7Repetition } from './hl7-repetition.ts';

/** A CWE/CE value (HL7 v2.5.1 ch. 2A, CWE and CE data types); empty components are omitted. */
export interface Hl7Coded {
  /** CWE.1 identifier. */
  readonly code?: string;
  /** CWE.2 text. */
  readonly display?: string;
  /** CWE.3 name of coding system (table 0396, e.g. LN, SCT, UCUM, HL70078). */
  readonly system?: string;
  /** CWE.4–6 alternate identifier, text and coding system. */
  readonly altCode?: string;
  readonly altDisplay?: string;
  readonly altSystem?: string;
  /** CWE.7–8 coding system version IDs (CWE only). */
  readonly systemVersion?: string;
  readonly altSystemVersion?: string;
  /** CWE.9 original text (CWE only). */
  readonly originalText?: string;
}

const CWE_KEYS = [
  'code',
  'display',
  'system',
  'altCode',
  'altDisplay',
  'altSystem',
  'systemVersion',
  'altSystemVersion',
  'originalText',
] as const;

/** Reads a CWE (coded with exceptions): nine components. */
export function parseCwe(rep: Hl7Repetition): Hl7Coded {
  return pick(rep, CWE_KEYS.length);
}

/** Reads a CE (coded element, deprecated after v2.5): the first six components. */
export function parseCe(rep: Hl7Repetition): Hl7Coded {
  return pick(rep, 6);
}

function pick(rep: Hl7Repetition, count: number): Hl7Coded {
  const out: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const v = rep.component(i + 1);
    const key = CWE_KEYS[i];
    if (v !== '' && key) out[key] = v;
  }
  return out;
}
