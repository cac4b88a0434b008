import { charsetFromMsh18, decodeHl7Bytes } from './hl7-charset.ts';
import { DEFAULT_HL7_DELIMITERS, hl7DelimitersFrom } from './hl7-delimiters.ts';
import { type Hl7Error, hl7Error } from './hl7-errors.ts';
import { type Hl7Line, splitHl7Lines } from './hl7-lines.ts';
import { Hl7Message } from './hl7-message.ts';
import type { Hl7ReadContext } from './hl7-repetition.ts';
import { Hl7Segment } from './hl7-segment.ts';
import { err, ok, type Result } from './result.ts';

/**
 * Whether a line starts with a segment ID: three characters, an upper-case letter then upper-case
 * letters or digits (ch. 2, segment ID; Z-segments included), and is at least that long.
 */
function isSegmentName(text: string): boolean {
  if (text.length < 3) return false;
  const a = text.charCodeAt(0);
  if (a < 65 || a > 90) return false;
  for (let i = 1; i < 3; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57))) return false;
  }
  return true;
}
const BATCH_SEGMENTS = new Set(['FHS', 'BHS', 'BTS', 'FTS']);

/** Options for {@link parseHl7}. */
export interface Hl7ParseOptions {
  /** Character set for byte input without (or with an unknown) MSH-18; default UTF-8. */
  readonly defaultCharset?: string;
}

/**
 * Parses one HL7 v2 message in ER7 encoding (HL7 v2.5.1 ch. 2, message construction rules). Byte input is decoded by
 * MSH-18. Structural problems are returned as typed {@link Hl7Error}s: empty input, MSH not first,
 * missing MSH-1/MSH-2/MSH-9/MSH-10, an invalid segment name (e.g. a wrapped line), a second MSH
 * (concatenated messages) or batch segments (use `parseHl7Batch`). Data types are not validated here
 * (see `validateObxValues`).
 */
export function parseHl7(input: string | Uint8Array, options: Hl7ParseOptions = {}): Result<Hl7Message, Hl7Error> {
  let text: string;
  let charset: string | undefined;
  if (typeof input === 'string') {
    text = input;
  } else {
    const decoded = decodeHl7Bytes(input, options);
    text = decoded.text;
    charset = decoded.charset;
  }
  return parseHl7Lines(splitHl7Lines(text), charset ?? options.defaultCharset);
}

/** Parses already split lines; shared with the batch parser. */
export function parseHl7Lines(lines: readonly Hl7Line[], charset?: string): Result<Hl7Message, Hl7Error> {
  const first = lines[0];
  if (!first) return err(hl7Error('empty-message'));
  const head = parseHeaderLine(first, charset);
  if (!head.ok) return head;
  const header = head.value;
  const fs = header.context.delimiters.field;
  const at = (line: number) => ({ line, header });
  if (header.get(9) === '')
    return err(
      hl7Error('missing-message-type', { ...at(first.line), location: { segment: 'MSH', sequence: 1, field: 9 } }),
    );
  if (header.get(10) === '')
    return err(
      hl7Error('missing-control-id', { ...at(first.line), location: { segment: 'MSH', sequence: 1, field: 10 } }),
    );
  const segments: [Hl7Segment, ...Hl7Segment[]] = [header];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const name = l.text.slice(0, 3);
    const next = l.text.charAt(3);
    if (!isSegmentName(l.text) || (next !== '' && next !== fs)) {
      return err(
        hl7Error('bad-segment-name', { ...at(l.line), detail: `line ${l.line} starts "${l.text.slice(0, 20)}"` }),
      );
    }
    if (name === 'MSH')
      return err(hl7Error('second-msh', { ...at(l.line), location: { segment: 'MSH', sequence: 2 } }));
    if (BATCH_SEGMENTS.has(name)) {
      const sequence = segments.filter((s) => s.name === name).length + 1;
      return err(hl7Error('batch-segment-in-message', { ...at(l.line), location: { segment: name, sequence } }));
    }
    // Split into fields when first read (see Hl7Segment).
    segments.push(new Hl7Segment(l.text, header.context));
  }
  return ok(new Hl7Message(segments, header.context));
}

/**
 * Reads the MSH line: MSH-1 is the character after "MSH" and MSH-2 the text up to the next one
 * (ch. 2, MSH-1 and MSH-2). On failure the error still carries a best-effort header for the ACK.
 */
function parseHeaderLine(first: Hl7Line, charset: string | undefined): Result<Hl7Segment, Hl7Error> {
  const name = first.text.slice(0, 3);
  if (name !== 'MSH') {
    const code = name === 'FHS' || name === 'BHS' ? 'batch-header' : 'msh-not-first';
    return err(hl7Error(code, { line: first.line, detail: `found "${first.text.slice(0, 20)}"` }));
  }
  const fs = first.text.charAt(3);
  if (fs === '' || /[A-Za-z0-9\s]/.test(fs)) {
    return err(
      hl7Error('missing-field-separator', { line: first.line, location: { segment: 'MSH', sequence: 1, field: 1 } }),
    );
  }
  const rest = first.text.slice(4).split(fs);
  const enc = rest[0] ?? '';
  const delimiters = hl7DelimitersFrom(fs, enc);
  const fields = ['MSH', fs, ...rest];
  const msh18 = fields[18]?.split(delimiters.ok ? delimiters.value.repetition : '~')[0] ?? '';
  const context: Hl7ReadContext = {
    delimiters: delimiters.ok ? delimiters.value : { ...DEFAULT_HL7_DELIMITERS, field: fs },
    charset: charset ?? charsetFromMsh18(msh18) ?? 'utf-8',
  };
  const header = new Hl7Segment(fields, context);
  if (!delimiters.ok) {
    const code = delimiters.error === 'missing' ? 'missing-encoding-characters' : 'invalid-encoding-characters';
    return err(
      hl7Error(code, { line: first.line, header, location: { segment: 'MSH', sequence: 1, field: 2 }, detail: enc }),
    );
  }
  return ok(header);
}
