import { type Hl7Hd, hdFromParts } from './hl7-hd.ts';
import type { Hl7MessageType } from './hl7-message.ts';
import type { Hl7Segment } from './hl7-segment.ts';

/** Typed view of MSH (HL7 v2.5.1 ch. 2, MSH segment); raw DTM kept as text. */
export interface Hl7Header {
  readonly fieldSeparator: string;
  readonly encodingCharacters: string;
  readonly sendingApplication?: Hl7Hd;
  readonly sendingFacility?: Hl7Hd;
  readonly receivingApplication?: Hl7Hd;
  readonly receivingFacility?: Hl7Hd;
  /** MSH-7 as sent (DTM); convert with `parseHl7DateTime`. */
  readonly dateTime: string;
  readonly messageType: Hl7MessageType;
  readonly controlId: string;
  /** MSH-11.1 (table 0103: P production, T training, D debugging). */
  readonly processingId: string;
  readonly versionId: string;
  /** MSH-15 / MSH-16 (table 0155: AL, NE, ER, SU); '' when absent (original acknowledgement mode). */
  readonly acceptAckType: string;
  readonly applicationAckType: string;
  /** MSH-18 repetitions (table 0211). */
  readonly characterSets: readonly string[];
  /** MSH-21 message profile identifiers (EI.1). */
  readonly profileIds: readonly string[];
}

/** Reads the MSH segment. */
export function readMsh(msh: Hl7Segment): Hl7Header {
  const hd = (n: number) => hdFromParts(msh.field(n).components());
  const opt = (key: string, value: Hl7Hd | undefined) => (value ? { [key]: value } : {});
  const type = msh.field(9);
  return {
    fieldSeparator: msh.raw(1),
    encodingCharacters: msh.raw(2),
    ...opt('sendingApplication', hd(3)),
    ...opt('sendingFacility', hd(4)),
    ...opt('receivingApplication', hd(5)),
    ...opt('receivingFacility', hd(6)),
    dateTime: msh.get(7),
    messageType: { code: type.component(1), trigger: type.component(2), structure: type.component(3) },
    controlId: msh.get(10),
    processingId: msh.get(11),
    versionId: msh.get(12),
    acceptAckType: msh.get(15),
    applicationAckType: msh.get(16),
    characterSets: msh.repetitions(18).map((r) => r.component(1)),
    profileIds: msh.repetitions(21).map((r) => r.component(1)),
  };
}
