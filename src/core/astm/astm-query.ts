import type { AstmRecord } from './astm-record.ts';

/** Typed view of a request-information record (Q record, host query). */
export interface AstmQuery {
  readonly sequence: string;
  /** Q-3 starting range ID (patient ID ^ specimen ID ^ …). */
  readonly startingRange: readonly string[];
  readonly endingRange: readonly string[];
  /** Q-5 universal test IDs requested (`ALL` when empty in practice). */
  readonly tests: readonly string[][];
  /** Q-13 request information status code (O orders, F final results, A cancel …). */
  readonly statusCode: string;
}

/** Reads a Q record. */
export function readAstmQuery(q: AstmRecord): AstmQuery {
  return {
    sequence: q.get(2),
    startingRange: q.components(3),
    endingRange: q.components(4),
    tests: q.repetitions(5),
    statusCode: q.get(13),
  };
}
