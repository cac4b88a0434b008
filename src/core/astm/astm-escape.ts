import type { AstmDelimiters } from './astm-delimiters.ts';

/**
 * Decodes E1394 / LIS02-A2 escape sequences in one leaf value: &F& field, &S& component, &R& repeat,
 * &E& escape delimiter, &Xhh…& hexadecimal (ISO-8859-1 bytes), &H& / &N& highlighting (dropped).
 * &Z…& (local) and unknown or unterminated sequences are kept, so a literal "&" written by a
 * careless sender survives. Never apply the HL7 unescaper to ASTM data (different escape character).
 */
export function unescapeAstm(value: string, d: AstmDelimiters): string {
  const e = d.escape;
  if (e === '' || !value.includes(e)) return value;
  let out = '';
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf(e, i);
    if (start < 0) break;
    const end = value.indexOf(e, start + 1);
    if (end < 0) break;
    const seq = value.slice(start + 1, end);
    const decoded = decode(seq, d);
    if (decoded === undefined) {
      // Not an escape: keep the first escape character and rescan from the second one.
      out += value.slice(i, start + 1);
      i = start + 1;
      continue;
    }
    out += value.slice(i, start) + decoded;
    i = end + 1;
  }
  return out + value.slice(i);
}

function decode(seq: string, d: AstmDelimiters): string | undefined {
  switch (seq) {
    case 'F':
      return d.field;
    case 'S':
      return d.component;
    case 'R':
      return d.repeat;
    case 'E':
      return d.escape;
    case 'H':
    case 'N':
      return '';
  }
  if (/^X(?:[0-9A-Fa-f]{2})+$/.test(seq)) {
    let s = '';
    for (let k = 1; k < seq.length; k += 2) s += String.fromCharCode(Number.parseInt(seq.slice(k, k + 2), 16));
    return s;
  }
  return undefined;
}

/** Escapes a leaf value for output: delimiters and the escape character become &F& &S& &R& &E&. */
export function escapeAstm(value: string, d: AstmDelimiters): string {
  const map = new Map<string, string>([
    [d.escape, `${d.escape}E${d.escape}`],
    [d.field, `${d.escape}F${d.escape}`],
    [d.component, `${d.escape}S${d.escape}`],
    [d.repeat, `${d.escape}R${d.escape}`],
  ]);
  if (d.escape === '') return value;
  let out = '';
  for (const ch of value) out += map.get(ch) ?? ch;
  return out;
}
