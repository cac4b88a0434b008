import { decodeHl7Bytes } from './hl7-charset.ts';
import { DEFAULT_HL7_DELIMITERS, hl7DelimitersFrom } from './hl7-delimiters.ts';
import { type Hl7Error, hl7Error } from './hl7-errors.ts';
import { type Hl7Line, splitHl7Lines } from './hl7-lines.ts';
import type { Hl7Message } from './hl7-message.ts';
import { Hl7Segment } from './hl7-segment.ts';
import { type Hl7ParseOptions, parseHl7Lines } from './parse-hl7.ts';
import { err, ok, type Result } from './result.ts';

/** A batch or file of messages (HL7 v2.5.1 ch. 2, batch protocol: [FHS] [BHS] {MSH …} [BTS] [FTS]). */
export interface Hl7Batch {
  readonly fileHeader?: Hl7Segment;
  readonly batchHeader?: Hl7Segment;
  readonly batchTrailer?: Hl7Segment;
  readonly fileTrailer?: Hl7Segment;
  /** One result per MSH, so one broken message does not hide the others. */
  readonly messages: readonly Result<Hl7Message, Hl7Error>[];
  /** Non-fatal problems, e.g. a BTS-1 count that does not match. */
  readonly warnings: readonly Hl7Error[];
}

/**
 * Parses a batch: optional FHS/BHS headers, any number of messages, optional BTS/FTS trailers
 * (trailers may be missing, as in real files). A plain single message is also accepted.
 */
export function parseHl7Batch(input: string | Uint8Array, options: Hl7ParseOptions = {}): Result<Hl7Batch, Hl7Error> {
  let text: string;
  let charset = options.defaultCharset;
  if (typeof input === 'string') text = input;
  else {
    const decoded = decodeHl7Bytes(input, options);
    text = decoded.text;
    charset = decoded.charset;
  }
  const lines = splitHl7Lines(text);
  const first = lines[0];
  if (!first) return err(hl7Error('empty-message'));
  const headers: Partial<Record<'FHS' | 'BHS' | 'BTS' | 'FTS', Hl7Segment>> = {};
  const groups: Hl7Line[][] = [];
  let current: Hl7Line[] | undefined;
  const fs = first.text.charAt(3);
  const enc = hl7DelimitersFrom(fs, first.text.slice(4).split(fs)[0] ?? '');
  const context = {
    delimiters: enc.ok ? enc.value : { ...DEFAULT_HL7_DELIMITERS, field: fs },
    charset: charset ?? 'utf-8',
  };
  for (const l of lines) {
    const name = l.text.slice(0, 3);
    if (name === 'FHS' || name === 'BHS') {
      headers[name] = new Hl7Segment([name, fs, ...l.text.slice(4).split(fs)], context);
      current = undefined;
    } else if (name === 'BTS' || name === 'FTS') {
      headers[name] = new Hl7Segment(l.text.split(fs), context);
      current = undefined;
    } else if (name === 'MSH') {
      current = [l];
      groups.push(current);
    } else if (current) {
      current.push(l);
    } else {
      return err(hl7Error('msh-not-first', { line: l.line, detail: `found "${l.text.slice(0, 20)}"` }));
    }
  }
  const messages = groups.map((g) => parseHl7Lines(g, charset));
  const warnings: Hl7Error[] = [];
  const declared = headers.BTS?.get(1);
  if (declared && Number(declared) !== messages.length) {
    warnings.push(hl7Error('batch-count-mismatch', { detail: `BTS-1 says ${declared}, found ${messages.length}` }));
  }
  return ok({
    ...(headers.FHS ? { fileHeader: headers.FHS } : {}),
    ...(headers.BHS ? { batchHeader: headers.BHS } : {}),
    ...(headers.BTS ? { batchTrailer: headers.BTS } : {}),
    ...(headers.FTS ? { fileTrailer: headers.FTS } : {}),
    messages,
    warnings,
  });
}
