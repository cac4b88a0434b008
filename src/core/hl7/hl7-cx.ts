import { type Hl7Hd, hdFromParts } from './hl7-hd.ts';
import type { Hl7Repetition } from './hl7-repetition.ts';

/** A CX extended composite ID (HL7 v2.5.1 ch. 2A, CX data type), e.g. one PID-3 repetition. */
export interface Hl7Cx {
  /** CX.1 ID number (a CPR number when CX.4 is the CPR registry). */
  readonly id: string;
  readonly checkDigit?: string;
  /** CX.3 check digit scheme (table 0061). */
  readonly checkDigitScheme?: string;
  /** CX.4 assigning authority (HD in subcomponents). */
  readonly assigningAuthority?: Hl7Hd;
  /** CX.5 identifier type code (table 0203: MR, PI, NNDNK …). */
  readonly typeCode?: string;
  /** CX.6 assigning facility (HD in subcomponents). */
  readonly assigningFacility?: Hl7Hd;
  /** CX.7 / CX.8 effective and expiration dates (raw DT). */
  readonly effectiveDate?: string;
  readonly expirationDate?: string;
}

/** Reads one CX repetition. */
export function parseCx(rep: Hl7Repetition): Hl7Cx {
  const opt = (key: string, n: number) => {
    const v = rep.component(n);
    return v === '' ? {} : { [key]: v };
  };
  const authority = hdFromParts(rep.subcomponents(4));
  const facility = hdFromParts(rep.subcomponents(6));
  return {
    id: rep.component(1),
    ...opt('checkDigit', 2),
    ...opt('checkDigitScheme', 3),
    ...(authority ? { assigningAuthority: authority } : {}),
    ...opt('typeCode', 5),
    ...(facility ? { assigningFacility: facility } : {}),
    ...opt('effectiveDate', 7),
    ...opt('expirationDate', 8),
  };
}
