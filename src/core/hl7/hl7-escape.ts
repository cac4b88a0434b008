import type { Hl7Delimiters } from './hl7-delimiters.ts';

/** How formatting escapes (`\.br\` and friends, HL7 v2.5.1 ch. 2 "Formatting codes", FT data type) are read. */
export type Hl7FormattingMode = 'apply' | 'keep';

/** Options for {@link unescapeHl7}. */
export interface Hl7UnescapeOptions {
  /**
   * `apply` (default) turns `\.br\` and `\.sp<n>\` into line breaks, `\.sk<n>\` into spaces and drops
   * the other formatting commands; `keep` leaves them as written (for display engines that render FT).
   */
  readonly formatting?: Hl7FormattingMode;
  /** WHATWG encoding label used for `\Xhh…\` bytes (MSH-18); default UTF-8. */
  readonly charset?: string;
}

/**
 * Decodes escape sequences in one leaf value (a component or subcomponent, never a whole field:
 * split on delimiters first, ch. 2 "Use of escape sequences in text fields"). Handles \F\ \S\ \T\ \R\ \E\, \P\ (v2.7
 * truncation), \H\ \N\ (highlighting, dropped), \Xhh…\ (hexadecimal bytes in the MSH-18
 * character set), formatting commands and \C…\ \M…\ (character-set switches,
 * dropped: ISO 2022 switching is not supported). \Z…\ (locally defined) and unknown or unterminated
 * sequences are kept verbatim so nothing is silently lost.
 */
export function unescapeHl7(value: string, d: Hl7Delimiters, options: Hl7UnescapeOptions = {}): string {
  const e = d.escape;
  if (e === '' || !value.includes(e)) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf(e, i);
    if (start < 0) break;
    const end = value.indexOf(e, start + 1);
    if (end < 0) break;
    out += value.slice(i, start);
    const seq = value.slice(start + 1, end);
    const decoded = decodeSequence(seq, d, options);
    out += decoded ?? value.slice(start, end + 1);
    i = end + 1;
  }
  return out + value.slice(i);
}

function decodeSequence(seq: string, d: Hl7Delimiters, options: Hl7UnescapeOptions): string | undefined {
  switch (seq) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'T':
      return d.subcomponent;
    case 'R':
      return d.repetition;
    case 'E':
      return d.escape;
    case 'P':
      return d.truncation || undefined;
    case 'H':
    case 'N':
      return '';
  }
  const head = seq.charAt(0);
  if (head === 'X') return decodeHex(seq.slice(1), options.charset);
  if (head === '.') return options.formatting === 'keep' ? undefined : applyFormatting(seq.slice(1));
  if ((head === 'C' || head === 'M') && /^[0-9A-Fa-f]{4,6}$/.test(seq.slice(1))) return '';
  return undefined;
}

function decodeHex(hex: string, charset = 'utf-8'): string | undefined {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let k = 0; k < bytes.length; k++) bytes[k] = Number.parseInt(hex.slice(k * 2, k * 2 + 2), 16);
  const label = charset.toLowerCase();
  // WHATWG maps "iso-8859-1" to windows-1252; HL7 8859/1 means the real ISO-8859-1 code points.
  if (label === 'latin1' || label === 'iso-8859-1') return String.fromCharCode(...bytes);
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    return String.fromCharCode(...bytes);
  }
}

function applyFormatting(command: string): string | undefined {
  const match = /^(br|sp|in|ti|sk|ce|fi|nf)([+-]?\d*)$/.exec(command);
  if (!match) return undefined;
  const n = match[2] === '' || match[2] === undefined ? 1 : Math.max(0, Number.parseInt(match[2], 10));
  switch (match[1]) {
    case 'br':
      return '\n';
    case 'sp':
      return '\n'.repeat(n);
    case 'sk':
      return ' '.repeat(n);
    default:
      return '';
  }
}

/** Options for {@link escapeHl7}. */
export interface Hl7EscapeOptions {
  /** How line breaks are written: `br` (FT/TX, `\.br\`) or `hex` (`\X0D\`/`\X0A\`, any type). Default `hex`. */
  readonly newline?: 'br' | 'hex';
}

/**
 * Escapes a plain leaf value for ER7 output (ch. 2, escape sequences): every delimiter and the escape character
 * become \F\ \S\ \T\ \R\ \E\ (\P\ for a declared truncation character), and CR/LF, which would end the
 * segment, become `\.br\` or hexadecimal escapes. When MSH-2 declares no escape character, delimiter
 * characters cannot be represented and are replaced by spaces.
 */
export function escapeHl7(value: string, d: Hl7Delimiters, options: Hl7EscapeOptions = {}): string {
  const e = d.escape;
  const map = new Map<string, string>();
  const put = (ch: string, code: string) => {
    if (ch !== '') map.set(ch, e === '' ? ' ' : e + code + e);
  };
  put(d.field, 'F');
  put(d.component, 'S');
  put(d.subcomponent, 'T');
  put(d.repetition, 'R');
  put(d.truncation, 'P');
  put(e, 'E');
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value.charAt(i);
    if (ch === '\r' || ch === '\n') {
      const pair = ch === '\r' && value.charAt(i + 1) === '\n';
      if (pair) i++;
      if (e === '') out += ' ';
      else if (options.newline === 'br') out += `${e}.br${e}`;
      else out += `${e}X${pair ? '0D0A' : ch === '\r' ? '0D' : '0A'}${e}`;
      continue;
    }
    out += map.get(ch) ?? ch;
  }
  return out;
}
