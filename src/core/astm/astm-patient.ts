import type { AstmRecord } from './astm-record.ts';

/** Typed view of a patient record (E1394 / LIS02-A2 P record). */
export interface AstmPatient {
  readonly sequence: string;
  /** P-3 practice-assigned patient ID (what the LIS sent, e.g. a CPR number). */
  readonly practicePatientId: string;
  /** P-4 laboratory-assigned patient ID. */
  readonly laboratoryPatientId: string;
  /** P-5 patient ID no. 3 (some analyzers put the ID here). */
  readonly patientId3: string;
  /** P-6 name components (last ^ first ^ middle ^ suffix ^ title). */
  readonly name: readonly string[];
  /** P-8 birth date as sent. */
  readonly birthDate: string;
  /** P-9 sex (M, F, U). */
  readonly sex: string;
  /** First non-empty of P-3, P-4, P-5. */
  readonly patientId: string;
}

/** Reads a P record. */
export function readAstmPatient(p: AstmRecord): AstmPatient {
  const [practicePatientId, laboratoryPatientId, patientId3] = [3, 4, 5].map((n) => p.get(n).trim()) as [
    string,
    string,
    string,
  ];
  return {
    sequence: p.get(2),
    practicePatientId,
    laboratoryPatientId,
    patientId3,
    name: p.components(6),
    birthDate: p.get(8),
    sex: p.get(9),
    patientId: practicePatientId || laboratoryPatientId || patientId3,
  };
}
