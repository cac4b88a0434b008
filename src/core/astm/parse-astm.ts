import { Buffer } from 'node:buffer';
import { err, ok, type Result } from '../hl7/result.ts';
import { type AstmDelimiters, astmDelimitersFromHeader, DEFAULT_ASTM_DELIMITERS } from './astm-delimiters.ts';
import { type AstmError, astmError } from './astm-errors.ts';
import { AstmMessage } from './astm-message.ts';
import { AstmRecord } from './astm-record.ts';

/** Options for {@link parseAstmRecords}. */
export interface AstmParseOptions {
  /** Delimiters for input without an H record; default `|\^&`. */
  readonly delimiters?: AstmDelimiters;
}

/**
 * Splits E1394 / LIS02-A2 text into records. Records end with CR (LF and CRLF tolerated; blank
 * lines skipped). Delimiters come from the first record when it is an H record, otherwise from the
 * options. Every record must start with a letter followed by the field delimiter (or end there).
 */
export function parseAstmRecords(
  text: string | Uint8Array,
  options: AstmParseOptions = {},
): Result<AstmRecord[], AstmError> {
  const body =
    typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1');
  const lines = body.split(/\r\n|\r|\n/).map((t, i) => ({ t, line: i + 1 }));
  const records = lines.filter((l) => l.t.trim() !== '');
  const first = records[0];
  if (!first) return err(astmError('empty-message'));
  let delimiters = options.delimiters ?? DEFAULT_ASTM_DELIMITERS;
  const out: AstmRecord[] = [];
  for (const r of records) {
    if (r.t.charAt(0) === 'H' && /[^A-Za-z0-9\s]/.test(r.t.charAt(1))) {
      // Each header record (re)defines the delimiters of its message.
      const d = astmDelimitersFromHeader(r.t);
      if (!d.ok) return err({ ...d.error, line: r.line });
      delimiters = d.value;
    }
    const next = r.t.charAt(1);
    if (!/^[A-Za-z]$/.test(r.t.charAt(0)) || (next !== '' && next !== delimiters.field)) {
      return err(astmError('invalid-record', { line: r.line, detail: `"${r.t.slice(0, 20)}"` }));
    }
    out.push(new AstmRecord(r.t, delimiters, r.line));
  }
  return ok(out);
}

/**
 * Parses one or more messages (each H … L, LIS02-A2 message structure). The first record must be
 * H; each further H starts a new message. A missing L record is tolerated.
 */
export function parseAstmMessages(
  text: string | Uint8Array,
  options: AstmParseOptions = {},
): Result<AstmMessage[], AstmError> {
  const parsed = parseAstmRecords(text, options);
  if (!parsed.ok) return parsed;
  const first = parsed.value[0];
  if (first?.type !== 'H') return err(astmError('missing-header', { line: first?.line ?? 1 }));
  const groups: [AstmRecord, ...AstmRecord[]][] = [];
  for (const record of parsed.value) {
    const current = groups[groups.length - 1];
    if (record.type === 'H' || !current) groups.push([record]);
    else current.push(record);
  }
  return ok(groups.map((g) => new AstmMessage(g)));
}

/** Parses exactly the first message of the text (see {@link parseAstmMessages}). */
export function parseAstmMessage(
  text: string | Uint8Array,
  options: AstmParseOptions = {},
): Result<AstmMessage, AstmError> {
  const all = parseAstmMessages(text, options);
  if (!all.ok) return all;
  const first = all.value[0];
  return first ? ok(first) : err(astmError('empty-message'));
}
