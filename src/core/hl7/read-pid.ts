import { type Hl7Cx, parseCx } from './hl7-cx.ts';
import type { Hl7Segment } from './hl7-segment.ts';
import { type Hl7Xad, parseXad } from './hl7-xad.ts';
import { type Hl7Xpn, parseXpn } from './hl7-xpn.ts';

/** Typed view of PID (HL7 v2.5.1 ch. 3, PID segment) with the fields a lab hub needs. */
export interface Hl7Patient {
  readonly setId: string;
  /** PID-3 patient identifier list (CPR/eCPR go here, with CX.4 assigning authority). */
  readonly identifiers: readonly Hl7Cx[];
  readonly names: readonly Hl7Xpn[];
  /** PID-7 as sent (DTM). */
  readonly birthDate: string;
  /** PID-8 administrative sex (table 0001). */
  readonly sex: string;
  readonly addresses: readonly Hl7Xad[];
}

/** Reads a PID segment. */
export function readPid(pid: Hl7Segment): Hl7Patient {
  return {
    setId: pid.get(1),
    identifiers: pid.repetitions(3).map(parseCx),
    names: pid.repetitions(5).map(parseXpn),
    birthDate: pid.get(7),
    sex: pid.get(8),
    addresses: pid.repetitions(11).map(parseXad),
  };
}
