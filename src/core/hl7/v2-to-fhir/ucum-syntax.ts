/**
 * A syntax check for UCUM unit expressions (The Unified Code for Units of Measure, §2 "Syntax
 * rules", case-sensitive forms), used to decide whether OBX-6 may go into `Quantity.code` with
 * system `http://unitsofmeasure.org`. It knows the atoms a laboratory sends, not the whole table:
 * an expression it rejects is kept as unit text only, which loses nothing.
 */

/** Atoms that take SI prefixes (UCUM table "metric" = yes). */
const METRIC_ATOMS = new Set([
  'm',
  's',
  'g',
  'rad',
  'K',
  'C',
  'cd',
  'mol',
  'sr',
  'Hz',
  'N',
  'Pa',
  'J',
  'W',
  'A',
  'V',
  'F',
  'Ohm',
  'S',
  'Wb',
  'Cel',
  'T',
  'H',
  'lm',
  'lx',
  'Bq',
  'Gy',
  'Sv',
  'l',
  'L',
  'ar',
  't',
  'bar',
  'u',
  'eV',
  'eq',
  'osm',
  'g%',
  'kat',
  'U',
  '[iU]',
  '[IU]',
  'cal',
  'B',
  'bit',
  'By',
  'Ci',
  'R',
  'm[Hg]',
  'm[H2O]',
  'gf',
  'dyn',
  'erg',
  'P',
  'St',
  'Gal',
]);

/** Atoms that take no prefix. */
const PLAIN_ATOMS = new Set([
  '10*',
  '10^',
  '%',
  'min',
  'h',
  'd',
  'wk',
  'mo',
  'a',
  '[ppth]',
  '[ppm]',
  '[ppb]',
  '[pptr]',
  '[pH]',
  '[degF]',
  '[in_i]',
  '[ft_i]',
  '[lb_av]',
  '[oz_av]',
  "[arb'U]",
  '[HPF]',
  '[LPF]',
  '[drp]',
  '[diop]',
  '[CFU]',
  "[USP'U]",
  '[AU]',
  "[beth'U]",
  "[APL'U]",
  "[GPL'U]",
  "[MPL'U]",
  "[ka'U]",
  "[knk'U]",
  "[mclg'U]",
  "[tb'U]",
  "[todd'U]",
  '[hp_X]',
  '[hp_C]',
  '[kp_C]',
  '[PFU]',
  '[FFU]',
  '[BAU]',
  '[Lf]',
  "[D'ag'U]",
  '[EID_50]',
  '[TCID_50]',
  '[CCID_50]',
  '[FEU]',
  '[ELU]',
  '[EU]',
  '[mi_i]',
  '[yd_i]',
  '[gal_us]',
  '[qt_us]',
  '[pt_us]',
  '[foz_us]',
  '[S]',
  'deg',
  "'",
  "''",
  '[pi]',
]);

const PREFIXES = [
  'da',
  'Ki',
  'Mi',
  'Gi',
  'Ti',
  'Y',
  'Z',
  'E',
  'P',
  'T',
  'G',
  'M',
  'k',
  'h',
  'd',
  'c',
  'm',
  'u',
  'n',
  'p',
  'f',
  'a',
  'z',
  'y',
];

/** True when `unit` is a well-formed UCUM expression made of known atoms. */
export function looksLikeUcum(unit: string): boolean {
  if (unit === '' || /\s/.test(unit)) return false;
  const parser = { text: unit, at: 0 };
  if (parser.text[0] === '/') parser.at = 1;
  if (!term(parser)) return false;
  return parser.at === parser.text.length;
}

interface Cursor {
  readonly text: string;
  at: number;
}

function term(c: Cursor): boolean {
  if (!component(c)) return false;
  while (c.text[c.at] === '.' || c.text[c.at] === '/') {
    c.at++;
    if (!component(c)) return false;
  }
  return true;
}

function component(c: Cursor): boolean {
  const ch = c.text[c.at];
  if (ch === '(') {
    c.at++;
    if (!term(c) || c.text[c.at] !== ')') return false;
    c.at++;
    return true;
  }
  if (ch === '{') return annotation(c);
  const start = c.at;
  let depth = 0;
  while (c.at < c.text.length) {
    const x = c.text[c.at] as string;
    if (x === '[') depth++;
    else if (x === ']') depth--;
    else if (depth === 0 && './(){'.includes(x)) break;
    c.at++;
  }
  const body = c.text.slice(start, c.at);
  if (body === '' && c.text[c.at] === '{') return annotation(c);
  if (!annotatable(body)) return false;
  return c.text[c.at] === '{' ? annotation(c) : true;
}

function annotation(c: Cursor): boolean {
  const end = c.text.indexOf('}', c.at);
  if (end < 0 || /[{]/.test(c.text.slice(c.at + 1, end))) return false;
  c.at = end + 1;
  return true;
}

function annotatable(body: string): boolean {
  if (/^\d+$/.test(body)) return true;
  // 10*3, 10^-3: the exponent follows the atom directly.
  const m = /^(.*?[^\d+-]|10[*^])([+-]?\d+)?$/.exec(body);
  if (!m) return false;
  return simpleUnit(m[1] as string);
}

function simpleUnit(name: string): boolean {
  if (PLAIN_ATOMS.has(name) || METRIC_ATOMS.has(name)) return true;
  return PREFIXES.some((p) => name.startsWith(p) && METRIC_ATOMS.has(name.slice(p.length)));
}
