import type { AstmRecord } from './astm-record.ts';
import { type AstmTestId, astmTestIdFrom } from './astm-test-id.ts';

/** Typed view of a test order record (E1394 / LIS02-A2 O record). */
export interface AstmOrder {
  readonly sequence: string;
  /** O-3.1 specimen ID (the sample barcode); trimmed. */
  readonly specimenId: string;
  /** O-3 all components (vendors add rack, position, sequence). */
  readonly specimenIdComponents: readonly string[];
  /** O-4 instrument specimen ID components. */
  readonly instrumentSpecimenId: readonly string[];
  /** O-5 universal test IDs, one per repetition. */
  readonly tests: readonly AstmTestId[];
  /** O-6 priority (S stat, A ASAP, R routine …). */
  readonly priority: string;
  /** O-7 requested/ordered date-time, O-8 collection date-time, as sent. */
  readonly requestedDateTime: string;
  readonly collectionDateTime: string;
  /** O-12 action code (C cancel, A add, N new, Q control …). */
  readonly actionCode: string;
  /** O-16 specimen descriptor (type ^ source). */
  readonly specimenDescriptor: readonly string[];
  /** O-26 report type (O order, F final, Q response to query …). */
  readonly reportType: string;
}

/** Reads an O record. */
export function readAstmOrder(o: AstmRecord): AstmOrder {
  const specimen = o.components(3).map((c) => c.trim());
  return {
    sequence: o.get(2),
    specimenId: specimen[0] ?? '',
    specimenIdComponents: specimen,
    instrumentSpecimenId: o.components(4).map((c) => c.trim()),
    tests: o.repetitions(5).map(astmTestIdFrom),
    priority: o.get(6),
    requestedDateTime: o.get(7),
    collectionDateTime: o.get(8),
    actionCode: o.get(12),
    specimenDescriptor: o.components(16),
    reportType: o.get(26),
  };
}
