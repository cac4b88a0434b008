import type { Hl7Delimiters } from './hl7-delimiters.ts';
import { type Hl7FormattingMode, unescapeHl7 } from './hl7-escape.ts';

/** What a reader needs to split and decode values of one message. */
export interface Hl7ReadContext {
  readonly delimiters: Hl7Delimiters;
  /** WHATWG label of the message character set (MSH-18), used for `\X…\` escapes. */
  readonly charset: string;
}

/** Options for decoded reads. */
export interface Hl7ReadOptions {
  /** See {@link Hl7FormattingMode}; default `apply`. */
  readonly formatting?: Hl7FormattingMode;
}

/**
 * One repetition of a field (HL7 v2.5.1 ch. 2, repetition separator): raw text plus 1-based component and
 * subcomponent access. Reads return decoded text; `raw*` methods return the text as sent.
 */
export class Hl7Repetition {
  /** The repetition exactly as sent, escapes included. */
  readonly raw: string;
  readonly #ctx: Hl7ReadContext;
  readonly #literal: boolean;

  /** `literal` marks MSH-1/MSH-2, which are never split or unescaped. */
  constructor(raw: string, ctx: Hl7ReadContext, literal = false) {
    this.raw = raw;
    this.#ctx = ctx;
    this.#literal = literal;
  }

  /** True when nothing was sent (ch. 2: field not present). */
  get isEmpty(): boolean {
    return this.raw === '';
  }

  /** True for the explicit HL7 null `""` (ch. 2, null values: delete the value in the receiver). */
  get isNull(): boolean {
    return this.raw === '""';
  }

  /** Raw components (escapes kept). */
  componentsRaw(): string[] {
    if (this.#literal) return [this.raw];
    return this.raw.split(this.#ctx.delimiters.component);
  }

  /** Number of components sent (an empty repetition has one empty component). */
  get componentCount(): number {
    return this.componentsRaw().length;
  }

  /** Raw subcomponents of component `n` (1-based). */
  subcomponentsRaw(n: number): string[] {
    const comp = this.componentsRaw()[n - 1] ?? '';
    const sub = this.#ctx.delimiters.subcomponent;
    if (this.#literal || sub === '') return [comp];
    return comp.split(sub);
  }

  /** Decoded leaf: component `n`, subcomponent `s` (both 1-based); '' when absent. */
  component(n = 1, s = 1, options: Hl7ReadOptions = {}): string {
    const leaf = this.subcomponentsRaw(n)[s - 1] ?? '';
    return this.decode(leaf, options);
  }

  /** Decoded subcomponents of component `n`. */
  subcomponents(n: number, options: Hl7ReadOptions = {}): string[] {
    return this.subcomponentsRaw(n).map((v) => this.decode(v, options));
  }

  /** Decoded components, each taken whole (subcomponent separators kept as sent, escapes decoded). */
  components(options: Hl7ReadOptions = {}): string[] {
    return this.componentsRaw().map((v) => this.decode(v, options));
  }

  /**
   * The whole repetition decoded as one primitive value (ST, TX, FT, NM …): delimiters sent
   * unescaped by a sloppy sender stay in the text rather than cutting it.
   */
  text(options: Hl7ReadOptions = {}): string {
    return this.decode(this.raw, options);
  }

  private decode(value: string, options: Hl7ReadOptions): string {
    if (this.#literal) return value;
    return unescapeHl7(value, this.#ctx.delimiters, {
      formatting: options.formatting ?? 'apply',
      charset: this.#ctx.charset,
    });
  }
}
