import { parseHl7Date, parseHl7DateTimeParts } from './hl7-date-time.ts';
import type { Hl7Error } from './hl7-errors.ts';
import type { Hl7Message } from './hl7-message.ts';
import { parseHl7Numeric } from './hl7-numeric.ts';
import type { Hl7Repetition } from './hl7-repetition.ts';
import { parseSn } from './hl7-sn.ts';
import { parseStructuredXad } from './hl7-xad.ts';
import type { Result } from './result.ts';

/** Value checks by OBX-2 type (table 0125); other types are not checked. */
const CHECKS: Readonly<Record<string, (rep: Hl7Repetition) => Result<unknown, Hl7Error>>> = {
  NM: (r) => parseHl7Numeric(r.text()),
  SN: (r) => parseSn(r),
  DT: (r) => parseHl7Date(r.component(1)),
  DTM: (r) => parseHl7DateTimeParts(r.component(1)),
  TS: (r) => parseHl7DateTimeParts(r.component(1)),
  XAD: (r) => parseStructuredXad(r),
};

/**
 * Checks every OBX-5 against its OBX-2 value type (HL7 v2.5.1 ch. 7, OBX-5 "Observation Value").
 * Returns one error per bad repetition, located as `OBX^<occurrence>^5^<repetition>` so it can go
 * straight into an ERR segment. Empty values (e.g. OBX-11 = I, pending) are not errors.
 */
export function validateObxValues(message: Hl7Message): Hl7Error[] {
  const errors: Hl7Error[] = [];
  message.all('OBX').forEach((obx, index) => {
    const check = CHECKS[obx.get(2)];
    if (!check) return;
    obx.repetitions(5).forEach((rep, r) => {
      if (rep.isEmpty || rep.isNull) return;
      const result = check(rep);
      if (!result.ok) {
        const location = { segment: 'OBX', sequence: index + 1, field: 5, repetition: r + 1 };
        errors.push({ ...result.error, location, header: message.header });
      }
    });
  });
  return errors;
}
