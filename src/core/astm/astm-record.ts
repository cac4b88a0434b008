import type { AstmDelimiters } from './astm-delimiters.ts';
import { unescapeAstm } from './astm-escape.ts';

/**
 * One E1394 / LIS02-A2 record. Fields are numbered as in the standard: field 1 is the record type
 * (`R`), field 2 the sequence number, so `get(4)` of an R record is R-4 (the measurement value).
 * H-2 (the delimiter definition) is returned verbatim, never split or unescaped.
 */
export class AstmRecord {
  /** Record type letter: H, P, O, R, C, Q, L, M, S … */
  readonly type: string;
  /** Raw field texts; `fields[n - 1]` is field n. */
  readonly fields: readonly string[];
  readonly delimiters: AstmDelimiters;
  /** 1-based line of the record in its input. */
  readonly line: number;

  constructor(text: string, delimiters: AstmDelimiters, line: number) {
    this.type = text.charAt(0);
    this.fields = text.split(delimiters.field);
    this.delimiters = delimiters;
    this.line = line;
  }

  /** Raw text of field `n` (1-based), escapes kept; '' when absent. */
  raw(n: number): string {
    return this.fields[n - 1] ?? '';
  }

  /** Repetitions of field `n`, each as decoded components; [] when the field is empty. */
  repetitions(n: number): string[][] {
    const raw = this.raw(n);
    if (raw === '') return [];
    if (this.#literal(n)) return [[raw]];
    return raw
      .split(this.delimiters.repeat)
      .map((r) => r.split(this.delimiters.component).map((c) => unescapeAstm(c, this.delimiters)));
  }

  /** Decoded components of repetition `repetition` (1-based) of field `n`; [] when absent. */
  components(n: number, repetition = 1): string[] {
    return this.repetitions(n)[repetition - 1] ?? [];
  }

  /** Decoded component `component` of field `n` (all 1-based); '' when absent. */
  get(n: number, component = 1, repetition = 1): string {
    return this.components(n, repetition)[component - 1] ?? '';
  }

  /** The record as sent (without its CR). */
  toString(): string {
    return this.fields.join(this.delimiters.field);
  }

  #literal(n: number): boolean {
    return n === 2 && this.type === 'H';
  }
}
