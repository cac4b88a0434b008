import type { AnalysisDefinition, Code, QualifiedInterval, RuleSet } from '../rule-set.ts';

/**
 * dxhub's first result-processing rule set, as DATA a region reviews and approves. Every number
 * names its source (details and full references: ../shared/research/ordering-and-results.md and
 * docs/results.md). Codes: NPU codes only where verified in identity-and-terminology.md §3.2 or a
 * cited laboratory handbook; LOINC only as found in the shared HL7 samples; everything else is in the
 * clearly local system `urn:dxhub:local:analysis`.
 */

const NPU = 'http://npu-terminology.org';
const LOINC = 'http://loinc.org';
const LOCAL = 'urn:dxhub:local:analysis';

const NORIP =
  'NORIP: Rustad P et al., Scand J Clin Lab Invest 2004;64:271-284, as tabulated by unilabs.no (Referanseverdier)';
const RCPATH = 'RCPath, The communication of critical and unexpected pathology results (Oct 2017), via pch-pathlab.com';
const NON_NEGATIVE = 'Definition: a concentration or count cannot be negative (implausible value, AUTO15 rule type 5)';
const UNN_BV = 'labhandbok.unn.no, Usikkerhet i svaret (VKb intra-individual, VKa analytical)';

/** Codes (see the module comment for where each was verified). */
export const CODES = {
  potassium: { system: NPU, code: 'NPU03230', display: 'P—Kalium-ion; stofk.' },
  sodium: { system: NPU, code: 'NPU03429', display: 'P—Natrium-ion; stofk.' },
  chloride: { system: NPU, code: 'NPU01536', display: 'P—Chlorid; stofk.' },
  creatinine: { system: NPU, code: 'NPU18016', display: 'P—Creatininium; stofk.' },
  tsh: { system: NPU, code: 'NPU03577', display: 'P—Thyrotropin [TSH]' },
  // NPU03579 as printed by lab.nordlandssykehuset.no (FT4 article, Norsk laboratoriekodeverk).
  ft4: { system: NPU, code: 'NPU03579', display: 'P—Thyroxin (fri); stofk.' },
  alt: { system: NPU, code: 'NPU19651', display: 'P—Alanintransaminase [ALAT]' },
  haemoglobin: { system: NPU, code: 'NPU02319', display: 'B—Hæmoglobin(Fe); stofk.' },
  platelets: { system: NPU, code: 'NPU03568', display: 'B—Trombocytter; antalk.' },
  // LOINC codes as they appear in ../shared/data/hl7 samples (OBX-3).
  haemoglobinMass: { system: LOINC, code: '718-7', display: 'Hemoglobin [Mass/volume] in Blood' },
  haematocrit: { system: LOINC, code: '20570-8', display: 'Hematocrit [Volume Fraction] of Blood' },
  ast: { system: LOCAL, code: 'ASAT', display: 'P—Aspartattransaminase [ASAT] (local code)' },
  bicarbonate: { system: LOCAL, code: 'HCO3', display: 'P—Hydrogencarbonat (local code)' },
  dDimer: { system: LOCAL, code: 'DDIMER', display: 'P—Fibrin D-dimer, FEU (local code)' },
  bnp: { system: LOCAL, code: 'BNP', display: 'P—Natriuretisk peptid B [BNP] (local code)' },
  procalcitonin: { system: LOCAL, code: 'PCT', display: 'P—Procalcitonin (local code)' },
  egfr: { system: LOCAL, code: 'EGFR-CKD-EPI-2021', display: 'eGFR, CKD-EPI 2021 creatinine (local code)' },
  anionGap: { system: LOCAL, code: 'ANION-GAP', display: 'Anion gap Na − Cl − HCO3 (local code)' },
  fib4: { system: LOCAL, code: 'FIB-4', display: 'FIB-4 index (local code)' },
  dDimerCutoff: { system: LOCAL, code: 'DDIMER-AGE-CUTOFF', display: 'D-dimer age-adjusted cut-off (local code)' },
} as const satisfies Record<string, Code>;

const ref = (
  low: number | undefined,
  high: number | undefined,
  source: string,
  more: Partial<QualifiedInterval> = {},
): QualifiedInterval => ({
  category: 'reference',
  range: { low, high },
  source,
  ...more,
});
const critical = (
  low: number | undefined,
  high: number | undefined,
  source: string,
  more: Partial<QualifiedInterval> = {},
): QualifiedInterval => ({
  category: 'critical',
  range: { low, high },
  source,
  ...more,
});
const nonNegative: QualifiedInterval = { category: 'absolute', range: { low: 0 }, source: NON_NEGATIVE };

const DDIMER_SOURCE =
  'Age-adjusted cut-off: ≤ 50 y 0.50 mg/L FEU, > 50 y age × 0.01 mg/L FEU; Nybo M, Hvas AM, Scand J Clin Lab Invest 2017;77:568 (via sthf.no)';
/** One reference band per year above 50 (the cited formula written out as data, ages 51–110). */
const dDimerIntervals: QualifiedInterval[] = [
  ref(undefined, 0.5, DDIMER_SOURCE, { age: { low: 18, high: 51 } }),
  ...Array.from({ length: 60 }, (_, i) =>
    ref(undefined, Number(((51 + i) * 0.01).toFixed(2)), DDIMER_SOURCE, { age: { low: 51 + i, high: 52 + i } }),
  ),
];

const ANALYSES: AnalysisDefinition[] = [
  {
    code: CODES.potassium,
    section: 'clinical-biochemistry',
    unit: 'mmol/L',
    qualifiedInterval: [ref(3.6, 4.6, NORIP), critical(2.5, 6.5, RCPATH), nonNegative],
    serumIndexLimits: {
      h: 20,
      source:
        'Roche potassium H-index limit 20: Yin T, Herskovits AZ, J Appl Lab Med 2022;7:788; potassium above the HI limit must not autoverify (ordering-and-results.md §3.4)',
    },
  },
  {
    code: CODES.sodium,
    section: 'clinical-biochemistry',
    unit: 'mmol/L',
    qualifiedInterval: [ref(137, 145, NORIP), critical(120, 160, RCPATH), nonNegative],
    delta: {
      kind: 'rcv',
      cvAnalytical: 1,
      cvWithinSubject: 0.5,
      z: 1.96,
      windowHours: 72,
      source: `RCV (Fraser 2001) with CVs from ${UNN_BV}: Natrium VKb 0.5 %, VKa 1 %; window: the region's`,
    },
  },
  {
    code: CODES.chloride,
    section: 'clinical-biochemistry',
    unit: 'mmol/L',
    qualifiedInterval: [
      ref(100, 110, 'Region Halland, Laboratoriet informerar – Klinisk kemi 161219 (P-Klorid 100–110 mmol/L)'),
      nonNegative,
    ],
  },
  {
    code: CODES.creatinine,
    section: 'clinical-biochemistry',
    unit: 'umol/L',
    qualifiedInterval: [
      ref(45, 90, NORIP, { gender: 'female', age: { low: 18 } }),
      ref(60, 105, NORIP, { gender: 'male', age: { low: 18 } }),
      critical(undefined, 354, `${RCPATH} (> 16 y)`, { age: { low: 16 } }),
      nonNegative,
    ],
    delta: {
      kind: 'percent',
      limit: 60,
      windowHours: 168,
      source: "±60 %: Gruenberg JM et al., Clin Biochem 2018;53:139; window: the region's",
    },
  },
  {
    code: CODES.tsh,
    section: 'clinical-biochemistry',
    unit: 'm[IU]/L',
    qualifiedInterval: [
      ...[
        [11, 16, 0.5, 4.9],
        [16, 21, 0.5, 4.4],
        [21, undefined, 0.3, 4.2],
      ].map(([lo, hi, low, high]) =>
        ref(
          low,
          high,
          'Sørlandet sykehus (sshf.no), TSH age-adjusted reference intervals from 23 April 2019 (Roche Elecsys)',
          {
            age: { low: lo, high: hi },
          },
        ),
      ),
      nonNegative,
    ],
  },
  {
    code: CODES.ft4,
    section: 'clinical-biochemistry',
    unit: 'pmol/L',
    qualifiedInterval: [
      ref(11.5, 22.7, 'lab.nordlandssykehuset.no, FT4 (Bodø, > 20 y)', { age: { low: 21 } }),
      nonNegative,
    ],
  },
  {
    code: CODES.alt,
    section: 'clinical-biochemistry',
    unit: 'U/L',
    qualifiedInterval: [
      ref(10, 45, `${NORIP} (2003)`, { gender: 'female', age: { low: 18 } }),
      ref(10, 70, `${NORIP} (2003)`, { gender: 'male', age: { low: 18 } }),
      nonNegative,
    ],
  },
  {
    code: CODES.ast,
    section: 'clinical-biochemistry',
    unit: 'U/L',
    qualifiedInterval: [
      ref(15, 35, `${NORIP} (2003)`, { gender: 'female', age: { low: 18 } }),
      ref(15, 45, `${NORIP} (2003)`, { gender: 'male', age: { low: 18 } }),
      nonNegative,
    ],
    serumIndexLimits: { h: 3, source: 'AST (+20 %) at HI ≥ 3: Goyal T, Schmotzer CL, Am J Clin Pathol 2015;143:579' },
    delta: {
      kind: 'rcv',
      cvAnalytical: 2.8,
      cvWithinSubject: 11.9,
      z: 1.96,
      windowHours: 72,
      source: `RCV (Fraser 2001) with CVs from ${UNN_BV}: ASAT VKb 11.9 %, VKa 2.8 %`,
    },
  },
  {
    code: CODES.haemoglobin,
    section: 'haematology',
    unit: 'mmol/L',
    qualifiedInterval: [
      ref(8.3, 10.5, 'sundhed.dk Lægehåndbogen (identity-and-terminology.md §3.2)', {
        gender: 'male',
        age: { low: 18 },
      }),
      ref(7.3, 9.5, 'sundhed.dk Lægehåndbogen (identity-and-terminology.md §3.2)', {
        gender: 'female',
        age: { low: 18 },
      }),
      nonNegative,
    ],
    delta: {
      kind: 'rcv',
      cvAnalytical: 2,
      cvWithinSubject: 2.8,
      z: 1.96,
      windowHours: 72,
      source: `RCV (Fraser 2001) with CVs from ${UNN_BV}: Hemoglobin VKb 2.8 %, VKa 2 %`,
    },
  },
  {
    code: CODES.platelets,
    section: 'haematology',
    unit: '10*9/L',
    qualifiedInterval: [critical(37, 910, 'Kost GJ, JAMA 1990;263:704-707 (mean US critical limits)'), nonNegative],
  },
  {
    code: CODES.bicarbonate,
    section: 'clinical-biochemistry',
    unit: 'mmol/L',
    qualifiedInterval: [
      critical(16, undefined, 'Hawkes Bay laboratory manual (hawkesbaylabmanual.co.nz), bicarbonate < 16'),
      nonNegative,
    ],
  },
  // Known so that the HCT/Hb consistency rule runs; no cited interval in these units yet (held).
  { code: CODES.haemoglobinMass, section: 'haematology', unit: 'g/dL', qualifiedInterval: [nonNegative] },
  { code: CODES.haematocrit, section: 'haematology', unit: '%', qualifiedInterval: [nonNegative] },
  { code: CODES.dDimer, section: 'coagulation', unit: 'mg/L', qualifiedInterval: [...dDimerIntervals, nonNegative] },
  { code: CODES.bnp, section: 'clinical-biochemistry', unit: 'ng/L', qualifiedInterval: [nonNegative] },
  { code: CODES.procalcitonin, section: 'clinical-biochemistry', unit: 'ug/L', qualifiedInterval: [nonNegative] },
];

/** The rule set the pipeline runs unless a region configures another. */
export const RULE_SET_2026_11: RuleSet = {
  id: 'dxhub-results',
  version: '2026.11.1',
  status: 'active',
  analyses: ANALYSES,
  consistency: [
    {
      kind: 'ratio-agreement',
      id: 'hct-hb',
      a: CODES.haematocrit,
      b: CODES.haemoglobinMass,
      divisor: 3,
      tolerance: 0.1,
      source:
        'HCT/3 ≈ Hb within 10 % (0.1 × HCT/3 > |HCT/3 − Hb|, HCT in %, Hb in g/dL): Wang 2019, BMC Med Inform Decis Mak 19:123',
    },
  ],
  reflex: [
    {
      kind: 'outside-reference',
      id: 'tsh-ft4',
      trigger: CODES.tsh,
      order: CODES.ft4,
      source:
        'TSH-first thyroid testing: FT4 reflexed on the same specimen when TSH is outside its interval (reflex rules as in OpenELIS, ordering-and-results.md §6); to be approved by the region',
    },
  ],
  derived: [
    {
      kind: 'egfr-ckd-epi-2021',
      code: CODES.egfr,
      unit: 'mL/min/{1.73_m2}',
      inputs: [CODES.creatinine],
      windowHours: 0,
      source: 'CKD-EPI 2021 creatinine equation without race: Inker LA et al., NEJM 2021;385:1737 (kidney.org)',
    },
    {
      kind: 'anion-gap',
      code: CODES.anionGap,
      unit: 'mmol/L',
      inputs: [CODES.sodium, CODES.chloride, CODES.bicarbonate],
      windowHours: 0,
      source: 'AG = Na − Cl − HCO3 (10–14): UCSF hospitalist handbook',
    },
    {
      kind: 'fib-4',
      code: CODES.fib4,
      unit: '1',
      inputs: [CODES.ast, CODES.alt, CODES.platelets],
      windowHours: 24,
      source: 'FIB-4 = age × AST / (platelets × √ALT); < 1.30 low, > 2.67 high: Sterling RK et al., Hepatology 2006',
    },
    {
      kind: 'age-adjusted-d-dimer-cutoff',
      code: CODES.dDimerCutoff,
      unit: 'mg/L',
      inputs: [CODES.dDimer],
      windowHours: 0,
      source: DDIMER_SOURCE,
    },
  ],
  likelihood: [
    {
      id: 'd-dimer-pe',
      analysis: CODES.dDimer,
      unit: 'mg/L',
      condition: 'pulmonary-embolism',
      conditionText: { en: 'pulmonary embolism', da: 'lungeemboli' },
      bands: [
        { high: 0.5, lr: 0.073, label: '< 0.50 mg/L FEU' },
        { low: 0.5, lr: 1.64, label: '≥ 0.50 mg/L FEU' },
      ],
      source: 'Pooled sens 0.97, spec 0.41 (61 studies): Blood Adv 2020;4(18):4296; LR+ 1.64, LR− 0.073 computed',
    },
    {
      id: 'bnp-acute-hf',
      analysis: CODES.bnp,
      unit: 'ng/L',
      condition: 'acute-heart-failure',
      conditionText: { en: 'acute heart failure', da: 'akut hjertesvigt' },
      bands: [{ high: 100, lr: 0.11, label: '< 100 ng/L' }],
      source: 'BNP < 100 pg/mL in ED dyspnoea, LR− 0.11 (22 studies): Am Fam Physician 2011;83(11):1333',
    },
    {
      id: 'pct-sepsis',
      analysis: CODES.procalcitonin,
      unit: 'ug/L',
      condition: 'sepsis',
      conditionText: { en: 'sepsis', da: 'sepsis' },
      bands: [
        { high: 0.5, lr: 0.29, label: '< 0.5 µg/L' },
        { low: 0.5, lr: 3.67, label: '≥ 0.5 µg/L' },
      ],
      source:
        'Sens 0.77, spec 0.79 (30 studies, pooled over their cut-offs): Wacker C et al., Lancet Infect Dis 2013;13:426; LRs computed; the 0.5 µg/L band limit is for the region to confirm',
    },
  ],
  criticalEscalationMinutes: 60,
  criticalEscalationSource:
    'Critical result to be acted on within 60 minutes, lab calls every 15 minutes until reached (clinic policy, starlingphysicians.com); OpenELIS escalates after 4 h',
};
