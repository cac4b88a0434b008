import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCatalogue } from './catalogue.ts';
import { compileRules, evaluateOrders, unliftedBlocks } from './engine.ts';
import { validateRuleSet } from './rule-validation.ts';
import { SEED_RULE_SET } from './seed/rule-set.ts';
import type { DraftOrder, ExistingOrder, LatestResult, PatientContext, Setting } from './types.ts';

const cat = buildCatalogue();
const rules = compileRules(SEED_RULE_SET, cat, 1);
const NOW = Date.parse('2026-11-29T12:00:00Z');
const H = 3_600_000;
const D = 24 * H;

function ctx(p: {
  age?: number;
  setting?: Setting;
  conditions?: string[];
  latest?: Record<string, Partial<LatestResult> & { ago: number }>;
  open?: ExistingOrder[];
  imaging?: ExistingOrder[];
}): PatientContext {
  return {
    patientId: 'p1',
    now: NOW,
    ageYears: p.age ?? 45,
    setting: p.setting ?? 'outpatient',
    conditions: p.conditions ?? [],
    latest: new Map(
      Object.entries(p.latest ?? {}).map(([t, r]) => [
        t,
        { at: NOW - r.ago, value: r.value, observationId: `obs-${t}` },
      ]),
    ),
    openOrders: p.open ?? [],
    priorImaging: p.imaging ?? [],
  };
}
const order = (test: string, o: Partial<DraftOrder> = {}): DraftOrder => ({
  id: `draft-${test}`,
  test,
  priority: 'routine',
  indications: [],
  ...o,
});
const fired = (drafts: DraftOrder[], c: PatientContext) =>
  evaluateOrders(rules, drafts, c).map((f) => `${f.rule}:${f.action}`);

describe('seed rule set', () => {
  it('validates against the catalogue, every rule with a citation', () => {
    const v = validateRuleSet(SEED_RULE_SET, cat);
    assert.deepEqual(v.ok ? [] : v.errors, []);
    for (const r of SEED_RULE_SET.rules) assert.ok(r.source.label.length > 10, r.id);
  });
});

describe('retest intervals (G147, Vælg Klogt)', () => {
  it('CRP again after 12 h is blocked; after 25 h it is not (G147 B-SP7)', () => {
    assert.deepEqual(fired([order('crp')], ctx({ latest: { crp: { ago: 12 * H } } })), ['retest-crp-24h:block']);
    assert.deepEqual(fired([order('crp')], ctx({ latest: { crp: { ago: 25 * H } } })), []);
  });
  it('CRP in a child or in the ICU is exempt (B-SP7 exception)', () => {
    assert.deepEqual(fired([order('crp')], ctx({ age: 8, latest: { crp: { ago: 6 * H } } })), []);
    assert.deepEqual(fired([order('crp')], ctx({ setting: 'icu', latest: { crp: { ago: 6 * H } } })), []);
  });
  it('HbA1c in known type 2 diabetes with a result 1 month old: block in primary care, warning in hospital (VK-1)', () => {
    const c = { conditions: ['DE119'], latest: { hba1c: { ago: 30 * D, value: 52 } } };
    assert.deepEqual(fired([order('hba1c')], ctx({ ...c, setting: 'primary-care' })), ['vk-hba1c-primary-care:block']);
    assert.deepEqual(fired([order('hba1c')], ctx({ ...c, setting: 'outpatient' })), ['vk-hba1c-hospital:warning']);
  });
  it('HbA1c after 3 months, without diabetes, or in pregnancy does not fire (VK-1, G147 B-P13/B-P14)', () => {
    assert.deepEqual(
      fired(
        [order('hba1c')],
        ctx({ setting: 'primary-care', conditions: ['DE11'], latest: { hba1c: { ago: 92 * D } } }),
      ),
      [],
    );
    assert.deepEqual(fired([order('hba1c')], ctx({ setting: 'primary-care', latest: { hba1c: { ago: 30 * D } } })), []);
    assert.deepEqual(
      fired(
        [order('hba1c')],
        ctx({ setting: 'primary-care', conditions: ['DE11', 'DO244'], latest: { hba1c: { ago: 30 * D } } }),
      ),
      [],
    );
  });
  it('Hb in a stable inpatient within 4 days is info; bleeding is the exception (H-FBC2, H-FBC4)', () => {
    const c = ctx({ setting: 'inpatient', latest: { hb: { ago: 2 * D } } });
    assert.deepEqual(fired([order('hb')], c), ['retest-hb-inpatient-4d:info']);
    assert.deepEqual(fired([order('hb', { indications: ['bleeding'] })], c), []);
  });
  it('a card carries the last result and its age', () => {
    const [f] = evaluateOrders(rules, [order('crp')], ctx({ latest: { crp: { ago: 12 * H, value: 40 } } }));
    assert.match(f!.summary.en, /last result 12 h ago/);
    assert.equal(f!.evidence?.observation, 'Observation/obs-crp');
  });
});

describe('duplicate of an open order (any organisation)', () => {
  it('blocks a blood test another unit has on order, names the unit; only the lab physician lifts it (VK-7)', () => {
    const open = [{ id: 'sr-9', test: 'tsh', status: 'active', organisation: '123456789012' }];
    const f = evaluateOrders(rules, [order('tsh')], ctx({ open }));
    assert.deepEqual(
      f.map((x) => `${x.rule}:${x.action}`),
      ['duplicate-open-order:block'],
    );
    assert.equal(f[0]!.evidence?.organisation, '123456789012');
    assert.deepEqual(f[0]!.overrideRoles, ['lab-physician']);
    assert.equal(unliftedBlocks(f, [{ rule: 'duplicate-open-order', reason: 'lost sample' }], 'clinician').length, 1);
    assert.equal(
      unliftedBlocks(f, [{ rule: 'duplicate-open-order', reason: 'haemolysed sample' }], 'lab-physician').length,
      0,
    );
  });
  it('a completed or different test is no duplicate', () => {
    assert.deepEqual(fired([order('tsh')], ctx({ open: [{ id: 'sr-8', test: 'ferritin', status: 'active' }] })), []);
  });
  it('serial troponin, urine culture and imaging only warn', () => {
    for (const test of ['troponin-t', 'urine-culture', 'xray-chest']) {
      const open = [{ id: `sr-${test}`, test, status: 'active' }];
      assert.deepEqual(fired([order(test)], ctx({ open })), ['duplicate-open-order-other:warning'], test);
    }
  });
});

describe('appropriateness (Choosing Wisely, Vælg Klogt)', () => {
  it('ESR together with CRP warns, ESR alone does not (CW-2)', () => {
    assert.deepEqual(fired([order('esr'), order('crp')], ctx({})), ['esr-with-crp:warning']);
    assert.deepEqual(fired([order('esr')], ctx({})), []);
  });
  it('vitamin D without risk warns; age ≥ 70 or a risk indication does not (CW-3, VK-4)', () => {
    assert.deepEqual(fired([order('vitamin-d')], ctx({ age: 40 })), ['vitamin-d-screening:warning']);
    assert.deepEqual(fired([order('vitamin-d')], ctx({ age: 72 })), []);
    assert.deepEqual(fired([order('vitamin-d', { indications: ['osteoporosis'] })], ctx({ age: 40 })), []);
  });
  it('lumbar imaging at 3 weeks without red flags is blocked; at 8 weeks, with a red flag or at 55 it is not (CW-6, DSAM)', () => {
    const lbp = (days: number, extra: string[] = []) =>
      order('mr-lumbar', { indications: ['low-back-pain', ...extra], onset: NOW - days * D });
    assert.deepEqual(fired([lbp(21)], ctx({ age: 40 })), ['low-back-pain-imaging-6w:block']);
    assert.deepEqual(fired([lbp(56)], ctx({ age: 40 })), []);
    assert.deepEqual(fired([lbp(21, ['red-flag-neuro-deficit'])], ctx({ age: 40 })), []);
    assert.deepEqual(fired([lbp(21)], ctx({ age: 55 })), []);
  });
  it('D-dimer without a clinical probability warns; Wells > 4 suggests imaging instead (VK-3, Wells 2001)', () => {
    assert.deepEqual(fired([order('d-dimer')], ctx({})), ['d-dimer-without-probability:warning']);
    assert.deepEqual(fired([order('d-dimer', { indications: ['wells-unlikely'] })], ctx({})), []);
    const [s] = evaluateOrders(rules, [order('d-dimer', { indications: ['wells-likely'] })], ctx({}));
    assert.equal(s?.rule, 'd-dimer-wells-likely');
    assert.equal(s?.suggest?.replaceWith, 'ct-chest-contrast');
  });
  it('ANA without signs of connective-tissue disease warns; suspected RA suggests anti-CCP (VK-2)', () => {
    assert.deepEqual(fired([order('ana')], ctx({})), ['ana-without-symptoms:warning']);
    assert.deepEqual(fired([order('ana', { indications: ['ctd-signs', 'suspected-ra'] })], ctx({})), [
      'ana-suspected-ra:info',
    ]);
  });
});

describe('imaging safety', () => {
  it('contrast with eGFR 25 is blocked, 45 is not; an inpatient without an eGFR from 7 days is warned (G147 B-R)', () => {
    assert.deepEqual(fired([order('ct-abdomen-contrast')], ctx({ latest: { egfr: { ago: 2 * D, value: 25 } } })), [
      'contrast-egfr-below-30:block',
    ]);
    assert.deepEqual(fired([order('ct-abdomen-contrast')], ctx({ latest: { egfr: { ago: 2 * D, value: 45 } } })), []);
    assert.deepEqual(
      fired(
        [order('ct-abdomen-contrast')],
        ctx({ setting: 'inpatient', latest: { egfr: { ago: 20 * D, value: 80 } } }),
      ),
      ['contrast-egfr-missing-acute:warning'],
    );
  });
  it('pregnancy warns for ionising exams, not for MRI', () => {
    assert.deepEqual(fired([order('ct-head')], ctx({ conditions: ['DZ33'] })), ['pregnancy-ionising:warning']);
    assert.deepEqual(fired([order('mr-lumbar')], ctx({ conditions: ['DZ33'] })), []);
  });
  it('cumulative dose: 9 prior CT abdomen (90 mSv) + CT chest (7 mSv) → 97 below 100; a tenth prior → 107 warns', () => {
    const prior = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: `i${i}`,
        test: 'ct-abdomen-contrast',
        status: 'completed',
        performedAt: NOW - (i + 1) * 30 * D,
      }));
    const egfr = { egfr: { ago: D, value: 90 } };
    assert.deepEqual(fired([order('ct-chest-contrast')], ctx({ imaging: prior(9), latest: egfr })), []);
    const f = evaluateOrders(rules, [order('ct-chest-contrast')], ctx({ imaging: prior(10), latest: egfr }));
    assert.deepEqual(
      f.map((x) => x.rule),
      ['imaging-cumulative-dose-5y'],
    );
    assert.equal(f[0]?.evidence?.cumulativeMSv, 107);
  });
  it('a lumbar X-ray 2 years after the last one warns (DSAM 5 years)', () => {
    const imaging = [{ id: 'old', test: 'xray-lumbar', status: 'completed', performedAt: NOW - 730 * D }];
    assert.deepEqual(fired([order('xray-lumbar')], ctx({ imaging })), ['imaging-repeat-lumbar-5y:warning']);
  });
});

describe('block enforcement', () => {
  it('a block is lifted only by a named role with a reason', () => {
    const f = evaluateOrders(rules, [order('crp')], ctx({ latest: { crp: { ago: H } } }));
    assert.equal(unliftedBlocks(f, [{ rule: 'retest-crp-24h', reason: 'sepsis' }], 'clinician').length, 1);
    assert.equal(unliftedBlocks(f, [{ rule: 'retest-crp-24h', reason: ' ' }], 'lab-physician').length, 1);
    assert.equal(unliftedBlocks(f, [{ rule: 'retest-crp-24h', reason: 'sepsis' }], 'lab-physician').length, 0);
  });
});

describe('rule-set validation', () => {
  it('refuses a bad rule with the reason', () => {
    const bad = {
      ...SEED_RULE_SET,
      rules: [
        { ...SEED_RULE_SET.rules[0]!, interval: 'two days' },
        { ...SEED_RULE_SET.rules[1]!, action: 'block', overrideRoles: undefined, source: { label: '' } },
        { ...SEED_RULE_SET.rules[1]!, tests: ['unobtainium'] },
      ],
    };
    const v = validateRuleSet(bad, cat);
    assert.equal(v.ok, false);
    const errors = v.ok ? [] : v.errors;
    assert.ok(
      errors.some((e) => /retest-crp-24h.*interval must be an ISO 8601 duration/.test(e)),
      errors.join('\n'),
    );
    assert.ok(errors.some((e) => /block must name the roles/.test(e)));
    assert.ok(errors.some((e) => /source.label/.test(e)));
    assert.ok(errors.some((e) => /unknown test 'unobtainium'/.test(e)));
    assert.ok(errors.some((e) => /duplicate rule id/.test(e)));
  });
});

describe('catalogue search', () => {
  it('finds by Danish, English, synonym and code, accents folded', () => {
    assert.equal(cat.search('langtidsblodsukker')[0]?.id, 'hba1c');
    assert.equal(cat.search('haemoglobin A1c')[0]?.id, 'hba1c');
    assert.equal(cat.search('NPU19748')[0]?.id, 'crp');
    assert.equal(cat.search('saenkning')[0]?.id, 'esr');
    assert.equal(cat.search('sænkning')[0]?.id, 'esr');
    assert.ok(cat.search('lungeemboli').some((h) => h.kind === 'order-set' && h.id === 'suspected-pe'));
    assert.equal(cat.byCoding('urn:oid:1.2.208.176.2.1', 'NPU19748')?.id, 'crp');
    assert.equal(cat.byCoding('http://npu-terminology.org', 'NPU99999'), undefined);
  });
});
