import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ageAdjustedDDimerCutoff,
  anionGap,
  autoverify,
  CODES,
  deltaCheck,
  egfrCkdEpi2021,
  fib4,
  findAnalysis,
  interpret,
  interpretWithLikelihood,
  postTestProbability,
  type ResultFacts,
  RULE_SET_2026_11 as RULES,
  referenceChangeValue,
  reflexesFor,
  selectInterval,
} from './index.ts';

const HOUR = 3_600_000;
const facts = (over: Partial<ResultFacts>): ResultFacts => ({
  codes: [CODES.potassium],
  value: 4.0,
  unit: 'mmol/L',
  specimen: 'Specimen/s1',
  effective: 100 * HOUR,
  instrumentFlags: [],
  indices: {},
  sex: 'female',
  ageYears: 60,
  ...over,
});

describe('derived values: worked examples from ordering-and-results.md §5.4', () => {
  it('eGFR CKD-EPI 2021 (Inker 2021)', () => {
    assert.equal(egfrCkdEpi2021(90, 70, 'female'), 59.3);
    assert.equal(egfrCkdEpi2021(80, 55, 'male'), 100.2);
    // 0.9 mg/dL = 79.56 µmol/L, ≈ 76 at creatinineclearancecalculator.net
    assert.equal(egfrCkdEpi2021(0.9 * 88.4, 55, 'female'), 75.5);
    assert.equal(egfrCkdEpi2021(80, 17, 'male'), undefined, 'adults only');
  });
  it('FIB-4 (Sterling 2006): 50 y, AST 40, ALT 36, platelets 200 → 1.67', () => {
    assert.equal(fib4(50, 40, 36, 200), 1.67);
    assert.equal(fib4(50, 40, 36, 0), undefined);
  });
  it('age-adjusted D-dimer cut-off (Nybo & Hvas 2017): 72 y → 0.72; 50 y → 0.50', () => {
    assert.equal(ageAdjustedDDimerCutoff(72), 0.72);
    assert.equal(ageAdjustedDDimerCutoff(50), 0.5);
    assert.equal(ageAdjustedDDimerCutoff(51), 0.51);
  });
  it('anion gap Na − Cl − HCO3: 140 − 104 − 24 = 12 (within 10–14)', () => {
    assert.equal(anionGap(140, 104, 24), 12);
  });
});

describe('likelihood ratios and Bayes (ordering-and-results.md §5.2 worked examples)', () => {
  it('D-dimer → PE at 15 % pre-test: negative 1.3 %, positive 22.4 % (the note rounds the odds first: 22.5 %)', () => {
    assert.equal(Math.round(postTestProbability(0.15, 0.073) * 1000) / 10, 1.3);
    assert.equal(Math.round(postTestProbability(0.15, 1.64) * 1000) / 10, 22.4);
    const table = RULES.likelihood.find((t) => t.id === 'd-dimer-pe')!;
    const neg = interpretWithLikelihood(table, 0.3, 0.15)!;
    assert.equal(neg.lr, 0.073);
    assert.match(neg.text.en, /post-test probability 1\.3 %/);
    assert.match(neg.text.da, /lungeemboli/);
    assert.equal(interpretWithLikelihood(table, 0.3, 1.2), undefined, 'a probability must be within (0, 1)');
  });
  it('BNP < 100 at 50 % pre-test → 9.9 %; no band above 100 → no interpretation', () => {
    const table = RULES.likelihood.find((t) => t.id === 'bnp-acute-hf')!;
    assert.equal(Math.round(interpretWithLikelihood(table, 60, 0.5)!.postTest * 1000) / 10, 9.9);
    assert.equal(interpretWithLikelihood(table, 400, 0.5), undefined);
  });
});

describe('reference intervals by sex and age; interpretation', () => {
  it('picks the age band (TSH, sshf.no)', () => {
    const tsh = findAnalysis(RULES, [CODES.tsh])!;
    assert.deepEqual(selectInterval(tsh, 'reference', { ageYears: 18 })?.range, { low: 0.5, high: 4.4 });
    assert.deepEqual(selectInterval(tsh, 'reference', { ageYears: 40 })?.range, { low: 0.3, high: 4.2 });
    assert.equal(selectInterval(tsh, 'reference', {}), undefined, 'age unknown: no age-banded interval applies');
  });
  it('picks the sex (creatinine, NORIP)', () => {
    const cr = findAnalysis(RULES, [CODES.creatinine])!;
    assert.deepEqual(selectInterval(cr, 'reference', { sex: 'female', ageYears: 40 })?.range, { low: 45, high: 90 });
    assert.deepEqual(selectInterval(cr, 'reference', { sex: 'male', ageYears: 40 })?.range, { low: 60, high: 105 });
  });
  it('D-dimer reference follows the age-adjusted cut-off', () => {
    const dd = findAnalysis(RULES, [CODES.dDimer])!;
    assert.equal(selectInterval(dd, 'reference', { ageYears: 72 })?.range.high, 0.72);
    assert.equal(selectInterval(dd, 'reference', { ageYears: 30 })?.range.high, 0.5);
  });
  it('L/H/LL/HH/N', () => {
    const k = findAnalysis(RULES, [CODES.potassium])!;
    const r = selectInterval(k, 'reference', {});
    const c = selectInterval(k, 'critical', {});
    assert.deepEqual(
      [2.4, 3.0, 4.0, 5.0, 7.0].map((v) => interpret(v, r, c)),
      ['LL', 'L', 'N', 'H', 'HH'],
    );
  });
});

describe('autoverification steps (AUTO10/AUTO15 order)', () => {
  const codesOf = (e: ReturnType<typeof autoverify>) => e.findings.map((f) => `${f.step}:${f.code}`);
  it('releases a clean potassium', () => {
    const e = autoverify(RULES, facts({}), undefined, []);
    assert.equal(e.outcome, 'autoverified');
    assert.equal(e.interpretation, 'N');
  });
  it('bad input: unknown analysis, no value, unit not convertible, missing specimen, no interval', () => {
    assert.deepEqual(codesOf(autoverify(RULES, facts({ codes: [{ system: 'urn:x', code: 'Y' }] }), undefined, [])), [
      'input:unknown-analysis',
    ]);
    assert.deepEqual(codesOf(autoverify(RULES, facts({ value: undefined }), undefined, [])), [
      'input:no-numeric-value',
    ]);
    assert.deepEqual(codesOf(autoverify(RULES, facts({ unit: 'mg/dL' }), undefined, [])), [
      'input:unit-not-convertible',
    ]);
    assert.deepEqual(codesOf(autoverify(RULES, facts({ specimen: undefined }), undefined, [])), [
      'input:missing-specimen',
    ]);
    assert.deepEqual(
      codesOf(
        autoverify(
          RULES,
          facts({ codes: [CODES.creatinine], value: 70, unit: 'umol/L', sex: undefined }),
          undefined,
          [],
        ),
      ),
      ['input:no-reference-interval'],
    );
  });
  it('converts a convertible unit (mmol/L ← umol/L)', () => {
    const e = autoverify(RULES, facts({ value: 4100, unit: 'umol/L' }), undefined, []);
    assert.equal(e.value, 4.1);
    assert.equal(e.outcome, 'autoverified');
  });
  it('instrument flags and QC, serum indices, implausible values, critical values', () => {
    assert.deepEqual(
      codesOf(autoverify(RULES, facts({ instrumentFlags: ['clot'], qcStatus: 'rejected' }), undefined, [])),
      ['instrument:qc-not-accepted', 'instrument:instrument-flag'],
    );
    assert.deepEqual(codesOf(autoverify(RULES, facts({ indices: { h: 25 } }), undefined, [])), ['serum-index:h-index']);
    assert.equal(autoverify(RULES, facts({ indices: { h: 15 } }), undefined, []).outcome, 'autoverified');
    assert.deepEqual(codesOf(autoverify(RULES, facts({ value: -1 }), undefined, [])), [
      'measuring-range:implausible',
      'critical:LL',
    ]);
    const crit = autoverify(RULES, facts({ value: 6.8 }), undefined, []);
    assert.deepEqual(codesOf(crit), ['critical:HH']);
    assert.equal(crit.critical?.code, 'HH');
  });
  it('delta check: RCV for sodium (3.1 %), percent for creatinine (60 %), only within the window', () => {
    assert.equal(Math.round(referenceChangeValue(3, 5, 1.96) * 10) / 10, 16.2, 'worked example §3.3');
    const prev = { value: 140, effective: 90 * HOUR, reference: 'Observation/p' };
    const na = (v: number, p = prev) => autoverify(RULES, facts({ codes: [CODES.sodium], value: v }), p, []);
    assert.equal(na(144).outcome, 'autoverified', '2.9 % < RCV 3.1 %');
    assert.deepEqual(codesOf(na(145)), ['delta:delta-rcv'], '3.6 % > RCV');
    assert.equal(na(145, { ...prev, effective: 0 }).outcome, 'autoverified', 'previous result outside the 72 h window');
    const cr = (v: number) =>
      autoverify(RULES, facts({ codes: [CODES.creatinine], value: v, unit: 'umol/L' }), { ...prev, value: 80 }, []);
    assert.equal(cr(120).outcome, 'autoverified');
    assert.deepEqual(codesOf(cr(140)), ['delta:delta-percent']);
    const abs = deltaCheck({ kind: 'absolute', limit: 3, windowHours: 24, source: 'test' }, 90, 10 * HOUR, {
      value: 86,
      effective: 0,
      reference: 'x',
    });
    assert.equal(abs?.exceeded, true);
  });
  it('consistency: HCT/3 ≈ Hb within 10 % (Wang 2019)', () => {
    const hct = { codes: [CODES.haematocrit], value: 45, unit: '%' };
    const ok = autoverify(RULES, facts({ codes: [CODES.haemoglobinMass], value: 15, unit: 'g/dL' }), undefined, [hct]);
    assert.ok(!codesOf(ok).includes('consistency:hct-hb'));
    const bad = autoverify(RULES, facts({ codes: [CODES.haemoglobinMass], value: 11, unit: 'g/dL' }), undefined, [hct]);
    assert.ok(codesOf(bad).includes('consistency:hct-hb'));
  });
  it('reflex: TSH outside its interval orders FT4; inside does not', () => {
    assert.deepEqual(
      reflexesFor(RULES, CODES.tsh, 'H').map((r) => r.order.code),
      ['NPU03579'],
    );
    assert.deepEqual(reflexesFor(RULES, CODES.tsh, 'N'), []);
  });
  it('every clinical number in the rule set names a source', () => {
    for (const a of RULES.analyses) for (const q of a.qualifiedInterval) assert.ok(q.source.length > 10, a.code.code);
    for (const t of RULES.likelihood) assert.ok(t.source.length > 10);
    for (const d of RULES.derived) assert.ok(d.source.length > 10);
  });
});
