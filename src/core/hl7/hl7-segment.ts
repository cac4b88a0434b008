import { type Hl7ReadContext, type Hl7ReadOptions, Hl7Repetition } from './hl7-repetition.ts';

/** Segments whose fields 1 and 2 are the field separator and the encoding characters. */
const HEADER_SEGMENTS = new Set(['MSH', 'FHS', 'BHS']);

/** Options for {@link Hl7Segment.get}. */
export interface Hl7GetOptions extends Hl7ReadOptions {
  /** 1-based repetition of the field; default 1. */
  readonly repetition?: number;
}

/**
 * One segment. `fields[n]` is the raw text of field n (1-based, ch. 2 field sequence numbers); `fields[0]` is the
 * segment name. For MSH (and FHS/BHS) field 1 is the field separator itself and field 2 the
 * encoding characters, as numbered by the standard (ch. 2, MSH-1 and MSH-2).
 */
export class Hl7Segment {
  readonly name: string;
  /** Delimiters and character set of the message this segment belongs to. */
  readonly context: Hl7ReadContext;
  #fields: readonly string[] | undefined;
  #text: string;

  /**
   * From its fields, or from the segment's text (not MSH/FHS/BHS, whose fields 1 and 2 are
   * numbered differently): the text is split into fields on first use, so that parsing a message
   * costs no more than finding its segments and the segments a mapping never reads are never split.
   */
  constructor(fields: readonly string[] | string, context: Hl7ReadContext) {
    if (typeof fields === 'string') {
      const end = fields.indexOf(context.delimiters.field);
      this.name = end < 0 ? fields : fields.slice(0, end);
      this.#text = fields;
    } else {
      this.name = fields[0] ?? '';
      this.#fields = fields;
      this.#text = '';
    }
    this.context = context;
  }

  /** `fields[n]` is the raw text of field n; `fields[0]` the segment name. */
  get fields(): readonly string[] {
    this.#fields ??= this.#text.split(this.context.delimiters.field);
    return this.#fields;
  }

  /** Highest field number present. */
  get fieldCount(): number {
    return this.fields.length - 1;
  }

  /** Raw text of field `n`, all repetitions, escapes kept; '' when absent. */
  raw(n: number): string {
    return this.fields[n] ?? '';
  }

  /** Repetitions of field `n`; [] when the field is empty. */
  repetitions(n: number): Hl7Repetition[] {
    const raw = this.raw(n);
    if (raw === '') return [];
    if (this.isLiteral(n)) return [new Hl7Repetition(raw, this.context, true)];
    return raw.split(this.context.delimiters.repetition).map((r) => new Hl7Repetition(r, this.context));
  }

  /** Repetition `repetition` (1-based) of field `n`; an empty repetition when absent. */
  field(n: number, repetition = 1): Hl7Repetition {
    return this.repetitions(n)[repetition - 1] ?? new Hl7Repetition('', this.context, this.isLiteral(n));
  }

  /**
   * Decoded leaf value of field `n`, component `component`, subcomponent `subcomponent` (all 1-based).
   * Like HAPI's Terser, `get(5)` means component 1 of field 5; '' when absent.
   */
  get(n: number, component = 1, subcomponent = 1, options: Hl7GetOptions = {}): string {
    return this.field(n, options.repetition ?? 1).component(component, subcomponent, options);
  }

  /** The segment as ER7 text (without the CR terminator). */
  toString(): string {
    const fs = this.context.delimiters.field;
    if (HEADER_SEGMENTS.has(this.name)) return this.name + (this.fields[1] ?? fs) + this.fields.slice(2).join(fs);
    return this.fields.join(fs);
  }

  private isLiteral(n: number): boolean {
    return (n === 1 || n === 2) && HEADER_SEGMENTS.has(this.name);
  }
}
