import { randomBytes } from 'node:crypto';
import { encodeHl7, type Hl7FieldInput } from './encode-hl7.ts';
import { DEFAULT_HL7_DELIMITERS } from './hl7-delimiters.ts';
import type { Hl7Error } from './hl7-errors.ts';
import type { Hl7Segment } from './hl7-segment.ts';
import { HL7_TABLE_0357, type Hl7ErrorCondition } from './hl7-table-0357.ts';

/** MSA-1 codes (table 0008): original mode AA/AE/AR, enhanced-mode commit CA/CE/CR. */
export type Hl7AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';
/** ERR-4 severity (table 0516): E error, W warning, I information. */
export type Hl7Severity = 'E' | 'W' | 'I';

/** One ERR segment (v2.5 layout). */
export interface Hl7AckError {
  /** ERR-2.1 segment ID, e.g. `OBX`. */
  readonly segment: string;
  /** ERR-2.2 segment occurrence (1-based). */
  readonly sequence?: number;
  /** ERR-2.3 field position. */
  readonly field?: number;
  readonly repetition?: number;
  readonly component?: number;
  readonly subcomponent?: number;
  /** ERR-3 condition code, table 0357. */
  readonly code: Hl7ErrorCondition;
  readonly severity: Hl7Severity;
  /** ERR-8 user message. */
  readonly text?: string;
}

/** Options for {@link buildAck}. */
export interface Hl7AckOptions {
  readonly code: Hl7AckCode;
  /** MSA-3 text message. */
  readonly text?: string;
  readonly errors?: readonly Hl7AckError[];
  /** MSH-10 of the ACK; default 20 random hex characters (MSH-10 is ST(20) in v2.5.1). */
  readonly controlId?: string;
  /** MSH-7 of the ACK; default now. Written in UTC (`+0000`). */
  readonly now?: Date;
}

/** Anything with a (possibly missing) MSH segment: an `Hl7Message` or an `Hl7Error`. */
export interface Hl7AckSubject {
  readonly header?: Hl7Segment | undefined;
}

/**
 * Builds an ACK in ER7 (HL7 v2.5.1 ch. 2, acknowledgement messages; ACK = MSH MSA [{ERR}]):
 * MSH with sending and receiving application/facility swapped, a new control ID, MSH-9
 * `ACK^<trigger>^ACK`, the request's processing ID, version and character set; MSA-2 = the request's
 * MSH-10; one ERR per error with ERR-2 location, ERR-3 table 0357 code and ERR-4 severity.
 * Works for unparseable requests too: pass the `Hl7Error` (its best-effort header is used).
 */
export function buildAck(request: Hl7AckSubject, options: Hl7AckOptions): string {
  const h = request.header;
  const d = h?.context.delimiters.escape ? h.context.delimiters : DEFAULT_HL7_DELIMITERS;
  const raw = (n: number): Hl7FieldInput => ({ raw: h?.raw(n) ?? '' });
  const trigger = h?.get(9, 2) ?? '';
  const messageType: Hl7FieldInput = trigger === '' ? 'ACK' : ['ACK', trigger, 'ACK'];
  const msh: Hl7FieldInput[] = [
    undefined,
    undefined,
    raw(5),
    raw(6),
    raw(3),
    raw(4),
    formatUtc(options.now ?? new Date()),
    undefined,
    messageType,
    options.controlId ?? randomBytes(10).toString('hex'),
    h?.raw(11) ? raw(11) : 'P',
    h?.raw(12) ? raw(12) : '2.5.1',
  ];
  const charset = h?.field(18).raw;
  if (charset) msh[17] = { raw: charset };
  const msa: Hl7FieldInput[] = [options.code, raw(10), options.text];
  const errs = (options.errors ?? []).map((e) => ({ name: 'ERR', fields: errFields(e) }));
  return encodeHl7([{ name: 'MSH', fields: msh }, { name: 'MSA', fields: msa }, ...errs], { delimiters: d });
}

function errFields(e: Hl7AckError): Hl7FieldInput[] {
  const location = [e.segment, e.sequence, e.field, e.repetition, e.component, e.subcomponent].map((v) =>
    v === undefined ? undefined : String(v),
  );
  return [
    undefined,
    location,
    [e.code, HL7_TABLE_0357[e.code], 'HL70357'],
    e.severity,
    undefined,
    undefined,
    undefined,
    e.text,
  ];
}

/** Turns a parse or validation error into an ERR entry (severity E). */
export function ackErrorFrom(error: Hl7Error): Hl7AckError {
  const l = error.location;
  return {
    segment: l?.segment ?? 'MSH',
    sequence: l?.sequence ?? 1,
    ...(l?.field !== undefined ? { field: l.field } : {}),
    ...(l?.repetition !== undefined ? { repetition: l.repetition } : {}),
    ...(l?.component !== undefined ? { component: l.component } : {}),
    code: error.condition,
    severity: 'E',
    text: error.message,
  };
}

function formatUtc(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}
