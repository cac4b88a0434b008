/** Weights of the old CPR check (CPR-kontoret; Erhvervsstyrelsen "Modulus 11 kontrol"). */
const WEIGHTS = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1] as const;

/**
 * True when the 10 digits satisfy the pre-2007 modulus-11 check (weighted sum ≡ 0 mod 11).
 * Information only: since 1 October 2007 the CPR office issues valid numbers that fail it
 * (cpr.dk "Personnumre uden kontrolciffer (modulus 11 kontrol)"). Never reject on it.
 */
export function hasCprModulus11(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  const sum = WEIGHTS.reduce((acc, weight, i) => acc + Number(digits[i]) * weight, 0);
  return sum % 11 === 0;
}
