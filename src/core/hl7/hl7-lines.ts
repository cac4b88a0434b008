/** One non-blank line of ER7 input with its 1-based line number. */
export interface Hl7Line {
  readonly text: string;
  readonly line: number;
}

/**
 * Splits ER7 text into segment lines. The standard terminator is CR (HL7 v2.5.1 ch. 2, segment terminator);
 * LF and CRLF are tolerated because files and some senders use them. A UTF-8 byte-order mark and
 * leftover MLLP block characters (0x0B, 0x1C) are stripped; blank lines are skipped.
 */
export function splitHl7Lines(text: string): Hl7Line[] {
  let body = text;
  if (body.charCodeAt(0) === 0xfeff) body = body.slice(1);
  if (body.charCodeAt(0) === 0x0b) body = body.slice(1);
  const fsAt = body.lastIndexOf('\x1c');
  if (fsAt >= 0 && body.slice(fsAt + 1).trim() === '') body = body.slice(0, fsAt);
  const out: Hl7Line[] = [];
  // Most senders end segments with CR only: a split on one character is several times faster.
  const parts = body.includes('\n') ? body.split(/\r\n|\r|\n/) : body.split('\r');
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i] ?? '';
    // A line starting with a printable ASCII character is not blank; others are trimmed to see.
    const c = t.charCodeAt(0);
    if ((c > 32 && c < 127) || t.trim() !== '') out.push({ text: t, line: i + 1 });
  }
  return out;
}
