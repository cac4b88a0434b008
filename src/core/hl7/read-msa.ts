import type { Hl7Segment } from './hl7-segment.ts';

/** Typed view of MSA (HL7 v2.5.1 ch. 2, MSA segment). */
export interface Hl7MessageAcknowledgment {
  /** MSA-1 acknowledgement code (table 0008: AA, AE, AR, CA, CE, CR). */
  readonly code: string;
  /** MSA-2 control ID of the acknowledged message (its MSH-10). */
  readonly controlId: string;
  /** MSA-3 text message (kept for backward compatibility in v2.5). */
  readonly text: string;
}

/** Reads an MSA segment. */
export function readMsa(msa: Hl7Segment): Hl7MessageAcknowledgment {
  return { code: msa.get(1), controlId: msa.get(2), text: msa.field(3).text() };
}
