import { type Hl7Coded, parseCwe } from './hl7-coded.ts';
import type { Hl7Repetition } from './hl7-repetition.ts';
import type { Hl7Segment } from './hl7-segment.ts';
import { type Hl7Ei, parseEi } from './read-obr.ts';

/** OBX-2 types whose OBX-5 is one primitive value (HL7 v2.5.1 ch. 2A). */
const PRIMITIVE_TYPES = new Set(['ST', 'TX', 'FT', 'NM', 'DT', 'DTM', 'TS', 'TM', 'ID', 'IS', 'SI', 'TN']);

/** Typed view of OBX (HL7 v2.5.1 ch. 7, OBX segment). */
export interface Hl7Observation {
  readonly setId: string;
  /** OBX-2.1 value type (table 0125); some senders send a full CWE, only the code is kept. */
  readonly valueType: string;
  readonly observationId: Hl7Coded;
  readonly subId: string;
  /**
   * OBX-5 repetitions as text: primitive types decoded whole, composite types (CWE, SN, XAD …) as
   * their first component (use `valueRepetitions` for those). Formatting escapes (`\.br\` → line
   * break) are applied for every type: they are defined for FT/TX (ch. 2, "Formatting codes"), but
   * senders also put them in ST (oru-r01-ti-04 OBX-7), where they cannot mean anything else.
   */
  readonly values: readonly string[];
  readonly valueRepetitions: readonly Hl7Repetition[];
  /** OBX-6 units (UCUM expected). */
  readonly units: Hl7Coded;
  /** OBX-7 reference range text. */
  readonly referenceRange: string;
  /** OBX-8 interpretation codes (table 0078: L, H, LL, HH, N, A …). */
  readonly abnormalFlags: readonly string[];
  /** OBX-11 result status (table 0085: F, P, C, X, D, W, I …). */
  readonly resultStatus: string;
  /** OBX-14 observation date-time, raw DTM. */
  readonly observationDateTime: string;
  /** OBX-18 equipment instance identifiers (the analyzer). */
  readonly equipment: readonly Hl7Ei[];
  /** OBX-19 analysis date-time, raw DTM. */
  readonly analysisDateTime: string;
}

/** Reads an OBX segment. */
export function readObx(obx: Hl7Segment): Hl7Observation {
  const valueType = obx.get(2);
  const reps = obx.repetitions(5);
  const values = reps.map((r) => (PRIMITIVE_TYPES.has(valueType) || valueType === '' ? r.text() : r.component(1)));
  return {
    setId: obx.get(1),
    valueType,
    observationId: parseCwe(obx.field(3)),
    subId: obx.get(4),
    values,
    valueRepetitions: reps,
    units: parseCwe(obx.field(6)),
    referenceRange: obx.field(7).text(),
    abnormalFlags: obx.repetitions(8).map((r) => r.component(1)),
    resultStatus: obx.get(11),
    observationDateTime: obx.get(14),
    equipment: obx.repetitions(18).map(parseEi),
    analysisDateTime: obx.get(19),
  };
}
