import type { AstmRecord } from './astm-record.ts';

/** Typed view of a message terminator record (L record): L-3 termination code. */
export interface AstmTerminator {
  readonly sequence: string;
  /** L-3: N normal, T sender aborted, R receiver requested abort, E unknown error, Q query error, I no information, F last request processed. */
  readonly code: string;
}

/** Reads an L record. */
export function readAstmTerminator(l: AstmRecord): AstmTerminator {
  return { sequence: l.get(2), code: l.get(3) };
}
