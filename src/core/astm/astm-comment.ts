import type { AstmRecord } from './astm-record.ts';

/** Typed view of a comment record (E1394 / LIS02-A2 C record). */
export interface AstmComment {
  readonly sequence: string;
  /** C-3 comment source (P practice, L information system, I instrument). */
  readonly source: string;
  /** C-4 comment text: components joined with spaces, empty ones skipped. */
  readonly text: string;
  /** C-4 components as sent (decoded). */
  readonly components: readonly string[];
  /** C-5 comment type (G generic, T test name, P positive, N negative, I instrument flag). */
  readonly type: string;
}

/** Reads a C record. */
export function readAstmComment(c: AstmRecord): AstmComment {
  const components = c.components(4);
  return {
    sequence: c.get(2),
    source: c.get(3),
    text: components
      .map((x) => x.trim())
      .filter((x) => x !== '')
      .join(' '),
    components,
    type: c.get(5),
  };
}
