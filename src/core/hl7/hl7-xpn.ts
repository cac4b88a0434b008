import type { Hl7Repetition } from './hl7-repetition.ts';

/** An XPN person name (HL7 v2.5.1 ch. 2A, XPN data type); empty parts are omitted. */
export interface Hl7Xpn {
  /** XPN.1.1 surname (FN data type, first subcomponent). */
  readonly family?: string;
  /** XPN.1.2 own surname prefix (e.g. "van"). */
  readonly familyPrefix?: string;
  /** XPN.2 given name. */
  readonly given?: string;
  /** XPN.3 second and further given names or initials. */
  readonly middle?: string;
  /** XPN.4 suffix, XPN.5 prefix, XPN.6 degree. */
  readonly suffix?: string;
  readonly prefix?: string;
  readonly degree?: string;
  /** XPN.7 name type code (table 0200: L legal, D display, M maiden …). */
  readonly typeCode?: string;
}

/** Reads one XPN repetition. */
export function parseXpn(rep: Hl7Repetition): Hl7Xpn {
  const parts: [keyof Hl7Xpn, string][] = [
    ['family', rep.component(1, 1)],
    ['familyPrefix', rep.component(1, 2)],
    ['given', rep.component(2)],
    ['middle', rep.component(3)],
    ['suffix', rep.component(4)],
    ['prefix', rep.component(5)],
    ['degree', rep.component(6)],
    ['typeCode', rep.component(7)],
  ];
  return Object.fromEntries(parts.filter(([, v]) => v !== '')) as Hl7Xpn;
}
