import { DEFAULT_HL7_DELIMITERS, type Hl7Delimiters, hl7EncodingCharacters } from './hl7-delimiters.ts';
import { escapeHl7, type Hl7EscapeOptions } from './hl7-escape.ts';

/** A leaf: text (escaped on output), `null` for the HL7 explicit null `""`, undefined for empty. */
export type Hl7Leaf = string | null | undefined;
/** A component: a leaf or its subcomponents. */
export type Hl7ComponentInput = Hl7Leaf | readonly Hl7Leaf[];
/** One repetition: a leaf or its components. */
export type Hl7RepetitionInput = Hl7Leaf | readonly Hl7ComponentInput[];
/** A field: one repetition, several (`repeat`), or text already in ER7 form (`raw`, not escaped). */
export type Hl7FieldInput =
  | Hl7RepetitionInput
  | { readonly repeat: readonly Hl7RepetitionInput[] }
  | { readonly raw: string };

/**
 * A segment to encode. `fields[i]` is field i + 1. For MSH, fields[0] and fields[1] (MSH-1 and
 * MSH-2) are ignored: they are written from the delimiters.
 */
export interface Hl7SegmentInput {
  readonly name: string;
  readonly fields: readonly Hl7FieldInput[];
}

/** Options for {@link encodeHl7}. */
export interface Hl7EncodeOptions extends Hl7EscapeOptions {
  /** Default `|^~\&`. */
  readonly delimiters?: Hl7Delimiters;
}

/**
 * Encodes segments as an ER7 message (HL7 v2.5.1 ch. 2, message construction rules): every leaf
 * escaped, trailing empty fields/components dropped, every segment terminated by CR.
 */
export function encodeHl7(segments: readonly Hl7SegmentInput[], options: Hl7EncodeOptions = {}): string {
  const d = options.delimiters ?? DEFAULT_HL7_DELIMITERS;
  return segments.map((s) => `${encodeHl7Segment(s, d, options)}\r`).join('');
}

/** Encodes one segment (without the CR terminator). */
export function encodeHl7Segment(segment: Hl7SegmentInput, d: Hl7Delimiters, options: Hl7EscapeOptions = {}): string {
  const isHeader = segment.name === 'MSH' || segment.name === 'FHS' || segment.name === 'BHS';
  const fields = segment.fields.map((f) => encodeField(f, d, options));
  if (isHeader) {
    const rest = trimEnd(fields.slice(2)).join(d.field);
    return `${segment.name}${d.field}${hl7EncodingCharacters(d)}${rest === '' ? '' : d.field + rest}`;
  }
  const body = trimEnd(fields).join(d.field);
  return body === '' ? segment.name : `${segment.name}${d.field}${body}`;
}

function encodeField(f: Hl7FieldInput, d: Hl7Delimiters, o: Hl7EscapeOptions): string {
  if (f !== null && typeof f === 'object' && 'raw' in f) return f.raw;
  if (f !== null && typeof f === 'object' && 'repeat' in f)
    return trimEnd(f.repeat.map((r) => encodeRepetition(r, d, o))).join(d.repetition);
  return encodeRepetition(f, d, o);
}

function encodeRepetition(r: Hl7RepetitionInput, d: Hl7Delimiters, o: Hl7EscapeOptions): string {
  if (!Array.isArray(r)) return encodeLeaf(r as Hl7Leaf, d, o);
  return trimEnd((r as readonly Hl7ComponentInput[]).map((c) => encodeComponent(c, d, o))).join(d.component);
}

function encodeComponent(c: Hl7ComponentInput, d: Hl7Delimiters, o: Hl7EscapeOptions): string {
  if (!Array.isArray(c)) return encodeLeaf(c as Hl7Leaf, d, o);
  return trimEnd((c as readonly Hl7Leaf[]).map((l) => encodeLeaf(l, d, o))).join(d.subcomponent);
}

function encodeLeaf(l: Hl7Leaf, d: Hl7Delimiters, o: Hl7EscapeOptions): string {
  if (l === null) return '""';
  if (l === undefined) return '';
  return escapeHl7(l, d, o);
}

function trimEnd(parts: string[]): string[] {
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  return parts.slice(0, n);
}
