import ucum from '@lhncbc/ucum-lhc';

/** A value converted between UCUM units, or why it could not be. */
export type UcumConversion =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly reason: string };

let utils: ReturnType<typeof ucum.UcumLhcUtils.getInstance> | undefined;

/**
 * Converts `value` from UCUM unit `from` to UCUM unit `to` with NLM's ucum-lhc (UCUM §§ 21-33
 * semantics: prefixes, powers, special units such as Cel). Incommensurable units (mass ↔ substance
 * amount needs a molar mass, arbitrary units `[IU]` …) and unknown units are refused, never guessed.
 * The result is rounded to the significant digits of the input, at least three (`4.41 10*6/uL` →
 * `4.41 10*12/L`, not `4.410000000000001`; `37 Cel` → `98.6 [degF]`): a unit change must not invent
 * precision the laboratory did not report, nor lose what a non-decimal factor spreads over digits.
 */
export function convertUcum(value: number, from: string, to: string): UcumConversion {
  if (!Number.isFinite(value)) return { ok: false, reason: `value ${value} is not a finite number` };
  if (from === to) return { ok: true, value };
  utils ??= ucum.UcumLhcUtils.getInstance();
  let r: ReturnType<typeof utils.convertUnitTo>;
  try {
    r = utils.convertUnitTo(from, value, to);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
  if (r.status !== 'succeeded' || r.toVal === null || !Number.isFinite(r.toVal)) {
    return { ok: false, reason: r.msg.join(' ') || `"${from}" cannot be converted to "${to}"` };
  }
  return { ok: true, value: Number(r.toVal.toPrecision(Math.max(significantDigits(value), 3))) };
}

/** Significant digits of a number as JavaScript writes it (`0.05` → 1, `4.41` → 3, `100` → 3). */
export function significantDigits(value: number): number {
  const mantissa = String(Math.abs(value)).split('e')[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '');
  return Math.min(Math.max(digits.length, 1), 17);
}
