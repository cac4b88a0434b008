import { Buffer } from 'node:buffer';
import { TextDecoder } from 'node:util';

/**
 * HL7 table 0211 (MSH-18 character set, HL7 v2.5.1 ch. 2, MSH-18) → WHATWG encoding label.
 * `latin1` stands for true ISO-8859-1 (WHATWG would map "iso-8859-1" to windows-1252).
 */
const TABLE_0211: Readonly<Record<string, string>> = Object.freeze({
  ASCII: 'latin1',
  'ISO IR6': 'latin1',
  '8859/1': 'latin1',
  'ISO IR100': 'latin1',
  '8859/2': 'iso-8859-2',
  '8859/3': 'iso-8859-3',
  '8859/4': 'iso-8859-4',
  '8859/5': 'iso-8859-5',
  '8859/6': 'iso-8859-6',
  '8859/7': 'iso-8859-7',
  '8859/8': 'iso-8859-8',
  '8859/9': 'iso-8859-9',
  '8859/15': 'iso-8859-15',
  'UNICODE UTF-8': 'utf-8',
  'ISO IR192': 'utf-8',
  'UNICODE UTF-16': 'utf-16le',
  'GB 18030-2000': 'gb18030',
  'BIG-5': 'big5',
  'KS X 1001': 'euc-kr',
  'ISO IR87': 'iso-2022-jp',
});

/** The encoding label for an MSH-18 value, or undefined when the value is not recognised. */
export function charsetFromMsh18(value: string): string | undefined {
  return TABLE_0211[value.trim().toUpperCase()];
}

/**
 * Reads MSH-18 (first repetition, first component) of the first MSH segment in raw bytes without
 * decoding the message: the MSH segment up to MSH-18 is ASCII in every character set HL7 allows
 * except UTF-16. Batch headers (FHS/BHS) before the MSH are skipped.
 */
export function readMsh18(bytes: Uint8Array): string | undefined {
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  if (bytes[start] === 0x0b) start++;
  while (start < bytes.length) {
    let end = start;
    while (end < bytes.length && bytes[end] !== 0x0d && bytes[end] !== 0x0a) end++;
    if (bytes[start] === 0x4d && bytes[start + 1] === 0x53 && bytes[start + 2] === 0x48) {
      return msh18FromLine(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1'));
    }
    start = end + 1;
  }
  return undefined;
}

function msh18FromLine(line: string): string | undefined {
  if (line.length < 8) return undefined;
  const fs = line.charAt(3);
  const parts = line.split(fs);
  const enc = parts[1] ?? '';
  // parts[k] is MSH-(k+1) because MSH-1 is the separator itself (ch. 2, MSH-1).
  const msh18 = parts[17];
  if (msh18 === undefined) return undefined;
  const first = msh18.split(enc.charAt(1) || '~')[0] ?? '';
  return (first.split(enc.charAt(0) || '^')[0] ?? '').trim() || undefined;
}

/** Result of {@link decodeHl7Bytes}. */
export interface Hl7DecodedText {
  readonly text: string;
  /** Encoding label actually used. */
  readonly charset: string;
  /** MSH-18 as sent, if any. */
  readonly declared?: string;
  /** False when MSH-18 named a character set this code does not know (the default was used). */
  readonly recognised: boolean;
}

/**
 * Decodes raw message bytes (e.g. an MLLP payload) using MSH-18, falling back to `defaultCharset`
 * (UTF-8 unless given) when MSH-18 is empty or unknown. A UTF-8 byte-order mark forces UTF-8.
 */
export function decodeHl7Bytes(bytes: Uint8Array, options: { readonly defaultCharset?: string } = {}): Hl7DecodedText {
  const fallback = options.defaultCharset ?? 'utf-8';
  const declared = readMsh18(bytes);
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const mapped = declared === undefined ? undefined : charsetFromMsh18(declared);
  const charset = hasBom ? 'utf-8' : (mapped ?? fallback);
  return {
    text: decodeWith(bytes, charset),
    charset,
    ...(declared === undefined ? {} : { declared }),
    recognised: declared === undefined || mapped !== undefined,
  };
}

/** One decoder per encoding label (a non-streaming `decode` keeps no state between calls). */
const decoders = new Map<string, TextDecoder>();

function decoderFor(charset: string): TextDecoder {
  let d = decoders.get(charset);
  if (d === undefined) {
    try {
      d = new TextDecoder(charset, { ignoreBOM: false });
    } catch {
      d = decoderFor('utf-8');
    }
    decoders.set(charset, d);
  }
  return d;
}

function decodeWith(bytes: Uint8Array, charset: string): string {
  if (charset === 'latin1') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return decoderFor(charset).decode(bytes);
}
