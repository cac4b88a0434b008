/**
 * JSON-type and lexical checks for the FHIR R4 primitive types. The regular expressions are the
 * ones the R4 StructureDefinitions carry in the `regex` extension of `<type>.value` (FHIR
 * §2.24.0.1), anchored; date types are additionally checked against the calendar ("Dates SHALL be
 * valid dates"). Each check returns `undefined` when valid, else the diagnostics text.
 */

import type { PrimitiveKind } from './element-tree.ts';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/**
 * R4's regex is `[^\s]+(\s[^\s]+)*`; the normative text is stricter ("no whitespace other than
 * single spaces in the contents", FHIR §2.24.0.1 code), which is what is checked.
 */
const CODE = /^[^\s]+( [^\s]+)*$/;
const NO_WHITESPACE = /^\S*$/;
const OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const CLOCK = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const DATE = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$`);
const DATE_TIME = new RegExp(`^${YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T${CLOCK}${ZONE})?)?)?$`);
const INSTANT = new RegExp(`^${YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T${CLOCK}${ZONE}$`);
const TIME = new RegExp(`^${CLOCK}$`);
/**
 * R4 gives string/markdown the regex `[ \r\n\t\S]+`; JavaScript's `\S` also excludes Unicode
 * spaces such as U+00A0 that are legitimate text, so only the C0 controls the spec excludes
 * (FHIR §2.24.0.1 string: "SHOULD not contain Unicode character points below 32, except for
 * u0009, u000D and u000A") are looked for.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding the forbidden C0 controls is the point.
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
/** string.value maxLength in the R4 definitions (1 MiB). */
const MAX_STRING_LENGTH = 1048576;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The outcome of a primitive check: a `value` error, a warning, or valid (undefined). */
export interface PrimitiveProblem {
  readonly severity: 'error' | 'warning';
  readonly diagnostics: string;
}

/** Checks one JSON value against the rules for `kind`; returns undefined when valid. */
export function checkPrimitive(kind: PrimitiveKind, value: unknown): PrimitiveProblem | undefined {
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : error(`expected a JSON boolean for ${kind}`);
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : error('expected a JSON number for decimal');
    case 'integer':
      return checkInteger(kind, value, INT32_MIN);
    case 'unsignedInt':
      return checkInteger(kind, value, 0);
    case 'positiveInt':
      return checkInteger(kind, value, 1);
    case 'string':
    case 'markdown':
      return checkString(kind, value);
    case 'xhtml':
      // Narrative.div: a full XHTML check is out of scope; the root must be a div (FHIR §2.4.0.1).
      return typeof value === 'string' && /^\s*<div[\s>/]/.test(value)
        ? undefined
        : error('expected an XHTML string whose root element is <div>');
    case 'base64Binary':
      return typeof value === 'string' && isBase64(value) ? undefined : lexical(kind, value);
    case 'id':
      return lexicalMatch(kind, value, ID);
    case 'code':
      return lexicalMatch(kind, value, CODE);
    case 'uri':
    case 'url':
    case 'canonical':
      return lexicalMatch(kind, value, NO_WHITESPACE);
    case 'oid':
      return lexicalMatch(kind, value, OID);
    case 'uuid':
      return lexicalMatch(kind, value, UUID);
    case 'time':
      return lexicalMatch(kind, value, TIME);
    case 'date':
      return checkDate(kind, value, DATE);
    case 'dateTime':
      return checkDate(kind, value, DATE_TIME);
    case 'instant':
      return checkDate(kind, value, INSTANT);
    default: {
      const unreachable: never = kind;
      return error(`unsupported primitive ${String(unreachable)}`);
    }
  }
}

function error(diagnostics: string): PrimitiveProblem {
  return { severity: 'error', diagnostics };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 60)}…` : value}'`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

function lexical(kind: PrimitiveKind, value: unknown): PrimitiveProblem {
  if (typeof value !== 'string') return error(`expected a JSON string for ${kind}, got ${describe(value)}`);
  if (value.length === 0) return error(`empty string is not a valid ${kind} (FHIR JSON forbids empty strings)`);
  return error(`${describe(value)} is not a valid ${kind}`);
}

function lexicalMatch(kind: PrimitiveKind, value: unknown, pattern: RegExp): PrimitiveProblem | undefined {
  return typeof value === 'string' && value.length > 0 && pattern.test(value) ? undefined : lexical(kind, value);
}

function checkString(kind: PrimitiveKind, value: unknown): PrimitiveProblem | undefined {
  if (typeof value !== 'string' || value.length === 0) return lexical(kind, value);
  if (value.length > MAX_STRING_LENGTH) return error(`${kind} is longer than ${MAX_STRING_LENGTH} characters`);
  if (CONTROL_CHARS.test(value)) {
    return { severity: 'warning', diagnostics: `${kind} contains control characters below U+0020` };
  }
  return undefined;
}

function checkInteger(kind: PrimitiveKind, value: unknown, min: number): PrimitiveProblem | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return error(`expected a JSON integer for ${kind}, got ${describe(value)}`);
  }
  if (value < min || value > INT32_MAX) return error(`${value} is out of range for ${kind} (${min}..${INT32_MAX})`);
  return undefined;
}

function checkDate(kind: PrimitiveKind, value: unknown, pattern: RegExp): PrimitiveProblem | undefined {
  const problem = lexicalMatch(kind, value, pattern);
  if (problem !== undefined || typeof value !== 'string') return problem;
  return isRealCalendarDate(value) ? undefined : error(`${describe(value)} is not a real calendar date`);
}

/** The regex admits day 31 for every month; reject e.g. 2023-02-29 or 2023-04-31. */
function isRealCalendarDate(value: string): boolean {
  if (value.length < 10) return true;
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * `(\s*([0-9a-zA-Z\+/=]){4}\s*)+` checked by a linear scan: the nested quantifiers of the
 * regex backtrack badly on large attachments.
 */
function isBase64(value: string): boolean {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) continue;
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 47 || c === 61;
    if (!ok) return false;
    count++;
  }
  return count > 0 && count % 4 === 0;
}
