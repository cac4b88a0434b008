import type { Hl7Delimiters } from './hl7-delimiters.ts';
import type { Hl7ReadContext } from './hl7-repetition.ts';
import type { Hl7GetOptions, Hl7Segment } from './hl7-segment.ts';

/** MSH-9 message type (MSG data type, HL7 v2.5.1 ch. 2A). */
export interface Hl7MessageType {
  /** MSH-9.1, e.g. `ORU`. */
  readonly code: string;
  /** MSH-9.2, e.g. `R01`; '' for a bare `ACK`. */
  readonly trigger: string;
  /** MSH-9.3, e.g. `ORU_R01`; '' before v2.3.1. */
  readonly structure: string;
}

/** Options for {@link Hl7Message.get}. */
export interface Hl7MessageGetOptions extends Hl7GetOptions {
  /** 1-based occurrence of the segment in the message; default 1. */
  readonly occurrence?: number;
}

/**
 * One parsed HL7 v2 message (ER7 encoding). Built by `parseHl7`, which guarantees that the first
 * segment is MSH and MSH-2, MSH-9 and MSH-10 are present.
 */
export class Hl7Message {
  readonly segments: readonly [Hl7Segment, ...Hl7Segment[]];
  readonly context: Hl7ReadContext;

  constructor(segments: readonly [Hl7Segment, ...Hl7Segment[]], context: Hl7ReadContext) {
    this.segments = segments;
    this.context = context;
  }

  /** Encoding characters declared in MSH-1/MSH-2. */
  get delimiters(): Hl7Delimiters {
    return this.context.delimiters;
  }

  /** Character set from MSH-18 as a WHATWG label (default `utf-8`). */
  get charset(): string {
    return this.context.charset;
  }

  /** The MSH segment. */
  get header(): Hl7Segment {
    return this.segments[0];
  }

  /** MSH-9 components. */
  get messageType(): Hl7MessageType {
    const f = this.header.field(9);
    return { code: f.component(1), trigger: f.component(2), structure: f.component(3) };
  }

  /** MSH-10 message control ID (decoded). */
  get controlId(): string {
    return this.header.get(10);
  }

  /** MSH-11.1 processing ID (P, T, D). */
  get processingId(): string {
    return this.header.get(11);
  }

  /** MSH-12.1 version ID (e.g. `2.5.1`). */
  get version(): string {
    return this.header.get(12);
  }

  /** All segments named `name`, in order. */
  all(name: string): Hl7Segment[] {
    return this.segments.filter((s) => s.name === name);
  }

  /** The `occurrence`-th (1-based) segment named `name`. */
  segment(name: string, occurrence = 1): Hl7Segment | undefined {
    let seen = 0;
    for (const s of this.segments) {
      if (s.name === name && ++seen === occurrence) return s;
    }
    return undefined;
  }

  /**
   * Decoded leaf value, e.g. `get('OBX', 5)` (first OBX, OBX-5.1) or
   * `get('PID', 3, 4, 2, { repetition: 2 })`; '' when absent. MSH-1 is the field separator.
   */
  get(name: string, field: number, component = 1, subcomponent = 1, options: Hl7MessageGetOptions = {}): string {
    return this.segment(name, options.occurrence ?? 1)?.get(field, component, subcomponent, options) ?? '';
  }

  /** Raw text of a field (all repetitions, escapes kept); '' when absent. */
  raw(name: string, field: number, occurrence = 1): string {
    return this.segment(name, occurrence)?.raw(field) ?? '';
  }

  /** The message as ER7 text, every segment terminated by CR (ch. 2, segment terminator). */
  toString(): string {
    return this.segments.map((s) => `${s.toString()}\r`).join('');
  }
}
