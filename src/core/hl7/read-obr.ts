import { type Hl7Coded, parseCwe } from './hl7-coded.ts';
import type { Hl7Repetition } from './hl7-repetition.ts';
import type { Hl7Segment } from './hl7-segment.ts';

/** An EI entity identifier (HL7 v2.5.1 ch. 2A, EI data type), e.g. a placer or filler order number. */
export interface Hl7Ei {
  readonly id: string;
  readonly namespaceId?: string;
  readonly universalId?: string;
  readonly universalIdType?: string;
}

/** Reads an EI. */
export function parseEi(rep: Hl7Repetition): Hl7Ei {
  const [namespaceId, universalId, universalIdType] = [2, 3, 4].map((i) => rep.component(i));
  return {
    id: rep.component(1),
    ...(namespaceId ? { namespaceId } : {}),
    ...(universalId ? { universalId } : {}),
    ...(universalIdType ? { universalIdType } : {}),
  };
}

/** Typed view of OBR (HL7 v2.5.1 ch. 4 / ch. 7, OBR segment). */
export interface Hl7ObservationRequest {
  readonly setId: string;
  readonly placerOrderNumber: Hl7Ei;
  readonly fillerOrderNumber: Hl7Ei;
  /** OBR-4 universal service identifier (the panel). */
  readonly serviceId: Hl7Coded;
  /** OBR-7 observation (collection) date-time, raw DTM. */
  readonly observationDateTime: string;
  /** OBR-22 results report/status change date-time, raw DTM. */
  readonly statusChangeDateTime: string;
  /** OBR-25 result status (table 0123: O, I, S, A, P, C, R, F, X). */
  readonly resultStatus: string;
}

/** Reads an OBR segment. */
export function readObr(obr: Hl7Segment): Hl7ObservationRequest {
  return {
    setId: obr.get(1),
    placerOrderNumber: parseEi(obr.field(2)),
    fillerOrderNumber: parseEi(obr.field(3)),
    serviceId: parseCwe(obr.field(4)),
    observationDateTime: obr.get(7),
    statusChangeDateTime: obr.get(22),
    resultStatus: obr.get(25),
  };
}
