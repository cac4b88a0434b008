/**
 * Derived values, each from its cited source (rule-set data names the source; worked examples in
 * derived-values.test.ts). Pure functions of SI inputs as Danish laboratories report them.
 */

/** µmol/L per mg/dL of creatinine (ordering-and-results.md §5.4). */
const CREATININE_UMOL_PER_MG_DL = 88.4;

/**
 * eGFR by the CKD-EPI 2021 creatinine equation without race (Inker LA et al., NEJM 2021;385:1737):
 * 142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 [female], Scr in mg/dL,
 * κ 0.7 F / 0.9 M, α −0.241 F / −0.302 M. Adults only: undefined below 18 years.
 */
export function egfrCkdEpi2021(creatinineUmolL: number, ageYears: number, sex: 'male' | 'female'): number | undefined {
  if (ageYears < 18 || !(creatinineUmolL > 0)) return undefined;
  const scr = creatinineUmolL / CREATININE_UMOL_PER_MG_DL;
  const female = sex === 'female';
  const kappa = female ? 0.7 : 0.9;
  const alpha = female ? -0.241 : -0.302;
  const r = scr / kappa;
  const egfr = 142 * Math.min(r, 1) ** alpha * Math.max(r, 1) ** -1.2 * 0.9938 ** ageYears * (female ? 1.012 : 1);
  return Math.round(egfr * 10) / 10;
}

/** Anion gap Na − Cl − HCO3, mmol/L (UCSF hospitalist handbook; 10–14). */
export function anionGap(sodium: number, chloride: number, bicarbonate: number): number {
  return Math.round((sodium - chloride - bicarbonate) * 10) / 10;
}

/** FIB-4 = age × AST / (platelets [10⁹/L] × √ALT) (Sterling RK et al., Hepatology 2006). */
export function fib4(ageYears: number, ast: number, alt: number, platelets: number): number | undefined {
  if (!(platelets > 0) || !(alt > 0)) return undefined;
  return Math.round(((ageYears * ast) / (platelets * Math.sqrt(alt))) * 100) / 100;
}

/** Age-adjusted D-dimer cut-off, mg/L FEU: 0.50 up to 50 years, age × 0.01 above (Nybo & Hvas 2017). */
export function ageAdjustedDDimerCutoff(ageYears: number): number {
  return ageYears > 50 ? Math.round(ageYears) / 100 : 0.5;
}
