import type { Rule, RuleSet, Source } from '../types.ts';
import { CATALOGUE } from './catalogue.ts';

/**
 * The seed rule set. Every rule cites its source (../shared/research/ordering-and-results.md gives
 * the full references) and is configuration a region's clinical governance approves before it
 * warns or blocks. Indication codes are local (`urn:dxhub:local:indication`, listed in
 * docs/ordering.md); diagnosis codes are SKS (D + ICD-10, e.g. DE11).
 */
export const INDICATION_SYSTEM = 'urn:dxhub:local:indication';
export const OVERRIDE_REASON_SYSTEM = 'urn:dxhub:local:override-reason';

const G147 = (ref: string): Source => ({
  label: 'RCPath/ACB G147 National minimum retesting intervals in pathology (2021)',
  url: 'https://www.rcpath.org/static/253e8950-3721-4aa2-8ddd4bd94f73040e/g147_national-minimum_retesting_intervals_in_pathology.pdf',
  ref,
});
const LEEDS: Source = {
  label: 'Leeds Teaching Hospitals, minimum re-test intervals (blood sciences)',
  url: 'http://www.pathology.leedsth.nhs.uk/pathology/Departments/BloodSciences/MinimumReTestIntervals.aspx',
};
const VK_HBA1C: Source = {
  label: 'Vælg Klogt: langtidsblodsukker (HbA1c)',
  url: 'https://vaelgklogt.dk/anbefalinger/langtidsblodsukker',
};
const DIABETES = ['DE10', 'DE11', 'DE12', 'DE13', 'DE14'];
const RED_FLAGS = [
  'red-flag-trauma',
  'red-flag-weight-loss',
  'red-flag-immunosuppression',
  'red-flag-cancer',
  'red-flag-iv-drug-use',
  'red-flag-steroid-use',
  'red-flag-osteoporosis',
  'red-flag-neuro-deficit',
  'red-flag-progressive',
];
const IONISING = ['ct-head', 'ct-chest-contrast', 'ct-abdomen-contrast', 'ct-lumbar', 'xray-lumbar', 'xray-chest'];
const CONTRAST = ['ct-chest-contrast', 'ct-abdomen-contrast'];
/** Tests where a second open order is deliberate often enough that a duplicate only warns. */
const DUPLICATE_ALLOWED = new Set(['troponin-t', 'urine-culture']);
/** Blood analyses: a duplicate open order is blocked (Vælg Klogt, duplicate blood tests). */
const DUPLICATE_BLOCKED = CATALOGUE.filter((i) => i.kind === 'lab' && !DUPLICATE_ALLOWED.has(i.id)).map((i) => i.id);
const DUPLICATE_WARNED = CATALOGUE.filter((i) => i.kind !== 'lab' || DUPLICATE_ALLOWED.has(i.id)).map((i) => i.id);

export const SEED_RULES: readonly Rule[] = [
  {
    id: 'retest-crp-24h',
    version: 1,
    kind: 'retest-interval',
    tests: ['crp'],
    interval: 'PT24H',
    action: 'block',
    overrideRoles: ['lab-physician'],
    unless: [
      { kind: 'age', below: 18 },
      { kind: 'setting', in: ['icu'] },
    ],
    title: { da: 'CRP gentaget inden for 24 timer', en: 'CRP repeated within 24 hours' },
    message: {
      da: 'CRP bør ikke gentages inden for 24 timer efter første måling (undtagen børn og intensiv).',
      en: 'CRP should not be repeated within 24 hours of the first request (except children and ICU).',
    },
    source: G147('B-SP7 (evidence D); ICU bypass per research note §1.6'),
  },
  {
    id: 'retest-procalcitonin-24h',
    version: 1,
    kind: 'retest-interval',
    tests: ['procalcitonin'],
    interval: 'PT24H',
    action: 'warning',
    title: { da: 'Procalcitonin gentaget inden for 24 timer', en: 'Procalcitonin repeated within 24 hours' },
    message: {
      da: 'Procalcitonin: mindste interval 24 timer.',
      en: 'Procalcitonin: minimum retest interval 24 hours.',
    },
    source: G147('B-SP8 (evidence D)'),
  },
  {
    id: 'vk-hba1c-primary-care',
    version: 1,
    kind: 'retest-interval',
    tests: ['hba1c'],
    interval: 'P2M',
    action: 'block',
    overrideRoles: ['clinician'],
    scope: { settings: ['primary-care'] },
    when: [{ kind: 'condition', prefixes: DIABETES }],
    unless: [{ kind: 'pregnant' }, { kind: 'age', below: 18 }, { kind: 'indication', codes: ['pregnancy-planning'] }],
    title: { da: 'HbA1c inden for 2 måneder ved kendt diabetes', en: 'HbA1c within 2 months in known diabetes' },
    message: {
      da: 'Undgå HbA1c i opfølgning af kendt diabetes, når der findes et svar fra de seneste 2 måneder.',
      en: 'Avoid HbA1c in follow-up of known diabetes when a result exists from the last 2 months.',
    },
    suggest: { label: { da: 'Fjern HbA1c fra bestillingen', en: 'Remove HbA1c from the order' } },
    source: { ...VK_HBA1C, ref: 'block in primary care (research note §2.2 VK-1)' },
  },
  {
    id: 'vk-hba1c-hospital',
    version: 1,
    kind: 'retest-interval',
    tests: ['hba1c'],
    interval: 'P2M',
    action: 'warning',
    scope: { settings: ['inpatient', 'icu', 'emergency', 'outpatient'] },
    when: [{ kind: 'condition', prefixes: DIABETES }],
    unless: [{ kind: 'pregnant' }, { kind: 'age', below: 18 }, { kind: 'indication', codes: ['pregnancy-planning'] }],
    title: { da: 'HbA1c inden for 2 måneder ved kendt diabetes', en: 'HbA1c within 2 months in known diabetes' },
    message: {
      da: 'Der findes et HbA1c-svar fra de seneste 2 måneder; et nyt svar viser retning, ikke ny ligevægt.',
      en: 'An HbA1c result exists from the last 2 months; an earlier value shows direction, not a new steady state.',
    },
    suggest: { label: { da: 'Fjern HbA1c fra bestillingen', en: 'Remove HbA1c from the order' } },
    source: { ...VK_HBA1C, ref: 'warn in hospital (research note §2.2 VK-1); G147 B-E19' },
  },
  {
    id: 'retest-vitamin-d-3m',
    version: 1,
    kind: 'retest-interval',
    tests: ['vitamin-d'],
    interval: 'P3M',
    action: 'warning',
    title: { da: 'D-vitamin gentaget inden for 3 måneder', en: 'Vitamin D repeated within 3 months' },
    message: {
      da: 'Gentag ikke D-vitamin før tidligst 3 måneder efter opstart af tilskud.',
      en: 'Do not retest vitamin D earlier than 3 months after starting replacement.',
    },
    source: G147('B-B5/B-B7; Sykehuset Telemark "Gjør kloke valg" (3 months)'),
  },
  {
    id: 'retest-tsh-healthy-3y',
    version: 1,
    kind: 'retest-interval',
    tests: ['tsh'],
    interval: 'P3Y',
    action: 'info',
    unless: [{ kind: 'indication', codes: ['on-treatment', 'symptoms', 'clinical-change'] }],
    title: {
      da: 'TSH hos rask uden symptomer inden for 3 år',
      en: 'TSH in a healthy person without symptoms within 3 years',
    },
    message: {
      da: 'Stofskiftetal hos en rask uden symptomer: højst hvert 3. år.',
      en: 'Thyroid tests in a healthy person without symptoms: at most every 3 years.',
    },
    source: G147('B-E1 (GPP)'),
  },
  {
    id: 'retest-ferritin-1y',
    version: 1,
    kind: 'retest-interval',
    tests: ['ferritin'],
    interval: 'P1Y',
    action: 'warning',
    unless: [
      { kind: 'indication', codes: ['on-treatment', 'clinical-change'] },
      { kind: 'condition', prefixes: ['DE831', 'DN18'] },
    ],
    title: { da: 'Ferritin gentaget inden for 1 år', en: 'Ferritin repeated within 1 year' },
    message: {
      da: 'Jernstatus hos en ellers rask patient: højst én gang om året.',
      en: 'Iron profile/ferritin in an otherwise well patient: at most once a year.',
    },
    source: G147('B-G9 (evidence A); exceptions haemochromatosis B-G5 and CKD B-G8'),
  },
  {
    id: 'retest-ldl-3m',
    version: 1,
    kind: 'retest-interval',
    tests: ['ldl'],
    interval: 'P3M',
    action: 'warning',
    title: { da: 'Lipider gentaget inden for 3 måneder', en: 'Lipids repeated within 3 months' },
    message: {
      da: 'Lipider efter start eller ændring af behandling: tidligst efter 3 måneder.',
      en: 'Lipids after starting or changing therapy: not before 3 months.',
    },
    source: G147('B-LP3 (evidence B)'),
  },
  {
    id: 'retest-hb-inpatient-4d',
    version: 1,
    kind: 'retest-interval',
    tests: ['hb'],
    interval: 'P4D',
    action: 'info',
    scope: { settings: ['inpatient'] },
    unless: [
      { kind: 'indication', codes: ['bleeding', 'clinical-change', 'on-treatment'] },
      { kind: 'priority', in: ['stat'] },
    ],
    title: { da: 'Hæmoglobin gentaget hos stabil indlagt patient', en: 'Haemoglobin repeated in a stable inpatient' },
    message: {
      da: 'Stabil indlagt patient med normal indlæggelses-hæmoglobin: ingen gentagelse inden for 4 dage.',
      en: 'Stable inpatient with a normal admission FBC: no repeat within the average 4-day stay.',
    },
    source: G147('H-FBC2 (GPP); bleeding exception H-FBC4'),
  },
  {
    id: 'retest-esr-7d',
    version: 1,
    kind: 'retest-interval',
    tests: ['esr'],
    interval: 'P7D',
    action: 'warning',
    title: { da: 'SR gentaget inden for 7 dage', en: 'ESR repeated within 7 days' },
    message: { da: 'SR: mindste interval 7 dage.', en: 'ESR: minimum retest interval 7 days.' },
    source: LEEDS,
  },
  {
    // A block for blood analyses (region configuration: an identical test already on open order
    // means a second draw of the same analysis). Lifted only by the laboratory physician — the
    // earlier sample was lost, rejected or haemolysed — or avoided by the orderer revoking the
    // earlier order first; docs/ordering.md "Duplicate open orders".
    id: 'duplicate-open-order',
    version: 2,
    kind: 'duplicate-open-order',
    tests: DUPLICATE_BLOCKED,
    action: 'block',
    overrideRoles: ['lab-physician'],
    title: { da: 'Samme blodprøve er allerede bestilt', en: 'The same blood test is already on order' },
    message: {
      da: 'Patienten har allerede en åben bestilling af samme analyse (evt. fra en anden enhed). Brug den åbne bestilling, eller tilbagekald den først; laboratorielægen kan ophæve blokeringen (fx ved tabt eller hæmolyseret prøve).',
      en: 'The patient already has an open order for the same analysis (possibly from another unit). Use the open order, or revoke it first; the laboratory physician can lift the block (e.g. a lost or haemolysed sample).',
    },
    suggest: { label: { da: 'Fjern den dobbelte bestilling', en: 'Remove the duplicate order' } },
    source: {
      label:
        'Vælg Klogt: undgå dobbelte blodprøver (research note §2.2 VK-7, sundhedspolitisktidsskrift.dk); CSMLS Choosing Wisely: draw only the blood needed, merge duplicate orders (§2.3 CW-10)',
      url: 'https://vaelgklogt.dk',
      ref: 'VK-7; CW-10 (csmls.org)',
    },
  },
  {
    // Everything else a duplicate may be intended for stays a warning: serial troponin (a second
    // sample 1–2 h after presentation, G147 B-C1), urine culture (not a blood draw) and imaging.
    id: 'duplicate-open-order-other',
    version: 1,
    kind: 'duplicate-open-order',
    tests: DUPLICATE_WARNED,
    action: 'warning',
    title: { da: 'Samme undersøgelse er allerede bestilt', en: 'The same test is already on order' },
    message: {
      da: 'Patienten har allerede en åben bestilling af samme undersøgelse (evt. fra en anden enhed).',
      en: 'The patient already has an open order for the same test (possibly from another unit).',
    },
    suggest: { label: { da: 'Fjern den dobbelte bestilling', en: 'Remove the duplicate order' } },
    source: {
      label:
        'CSMLS Choosing Wisely: merge duplicate orders (research note §2.3 CW-10); serial troponin per G147 B-C1; DSAM: no duplicate ionising examinations (§2.2 VK-6)',
      url: 'https://vaelgklogt.dk',
      ref: 'CW-10; G147 B-C1; VK-6',
    },
  },
  {
    id: 'esr-with-crp',
    version: 1,
    kind: 'appropriateness',
    tests: ['esr'],
    action: 'warning',
    when: [{ kind: 'co-ordered', tests: ['crp'] }],
    unless: [{ kind: 'indication', codes: ['gca-pmr', 'myeloma', 'rheumatoid-arthritis'] }],
    title: { da: 'SR bestilt sammen med CRP', en: 'ESR ordered together with CRP' },
    message: {
      da: 'SR sammen med CRP tilføjer sjældent noget; CRP alene er billigere og bedre som inflammationsmarkør.',
      en: 'ESR with CRP rarely adds information; CRP alone is cheaper and better as an inflammation test.',
    },
    suggest: { label: { da: 'Fjern SR, behold CRP', en: 'Remove ESR, keep CRP' } },
    source: {
      label: 'Choosing Wisely Canada / Lab Wisely: ESR (research note §2.3 CW-2; AJCP 2023, PMID 37549105)',
      url: 'https://labwisely.ca',
    },
  },
  {
    id: 'vitamin-d-screening',
    version: 1,
    kind: 'appropriateness',
    tests: ['vitamin-d'],
    action: 'warning',
    unless: [
      { kind: 'indication', codes: ['vitd-risk', 'osteoporosis', 'malabsorption', 'ckd', 'symptoms'] },
      { kind: 'age', atLeast: 70 },
    ],
    title: { da: 'D-vitamin-screening uden indikation', en: 'Vitamin D screening without an indication' },
    message: {
      da: 'Mål kun D-vitamin ved risiko eller symptomer (fx osteoporose, nyresygdom, malabsorption, > 70 år).',
      en: 'Measure vitamin D only with a risk factor or symptoms (e.g. osteoporosis, CKD, malabsorption, > 70 years).',
    },
    source: {
      label: 'Choosing Wisely (ASCP; Canadian Association of Pathologists) CW-3; Vælg Klogt/midtkraft VK-4',
      url: 'https://midtkraft.dk/klynge/vaelg-klogt-naar-du-bestiller-blodproever/',
    },
  },
  {
    id: 'low-back-pain-imaging-6w',
    version: 1,
    kind: 'appropriateness',
    tests: ['xray-lumbar', 'ct-lumbar', 'mr-lumbar'],
    action: 'block',
    overrideRoles: ['radiologist'],
    when: [
      { kind: 'indication', codes: ['low-back-pain'] },
      { kind: 'onset-within', days: 42 },
    ],
    unless: [
      { kind: 'indication', codes: RED_FLAGS },
      { kind: 'age', atLeast: 50 },
      { kind: 'age', below: 20 },
    ],
    title: { da: 'Billeddiagnostik ved lænderygsmerter < 6 uger', en: 'Imaging for low back pain before 6 weeks' },
    message: {
      da: 'Ingen billeddiagnostik ved lænderygsmerter inden 6 uger uden røde flag.',
      en: 'No imaging for low back pain in the first six weeks without red flags.',
    },
    suggest: { label: { da: 'Fjern billedundersøgelsen', en: 'Remove the imaging order' } },
    source: {
      label: 'AAFP Choosing Wisely #127 (CW-6); DSAM lændesmerter: billeddiagnostik (age < 20 / > 50)',
      url: 'https://www.dsam.dk/vejledninger/laendesmerter/billeddiagnostik',
    },
  },
  {
    id: 'd-dimer-without-probability',
    version: 1,
    kind: 'appropriateness',
    tests: ['d-dimer'],
    action: 'warning',
    unless: [{ kind: 'indication', codes: ['wells-unlikely', 'wells-likely', 'perc-done'] }],
    title: { da: 'D-dimer uden klinisk sandsynlighed', en: 'D-dimer without a clinical probability' },
    message: {
      da: 'Vurdér sandsynligheden for lungeemboli (Wells) før D-dimer.',
      en: 'Assess the probability of pulmonary embolism (Wells score) before ordering D-dimer.',
    },
    source: {
      label:
        'Vælg Klogt D-dimer (medicinsktidsskrift.dk, research note §2.2 VK-3); Wells PS, Ann Intern Med 2001;135:98',
    },
  },
  {
    id: 'd-dimer-wells-likely',
    version: 1,
    kind: 'suggestion',
    tests: ['d-dimer'],
    action: 'info',
    when: [{ kind: 'indication', codes: ['wells-likely'] }],
    title: { da: 'Wells > 4: billeddiagnostik frem for D-dimer', en: 'Wells > 4: imaging rather than D-dimer' },
    message: {
      da: 'Ved Wells > 4 (sandsynlig lungeemboli) udelukker D-dimer ikke; overvej CT-angiografi.',
      en: 'With Wells > 4 (PE likely) D-dimer does not exclude; consider CT pulmonary angiography.',
    },
    suggest: {
      replaceWith: 'ct-chest-contrast',
      label: { da: 'Bestil CT thorax med kontrast', en: 'Order CT chest with contrast' },
    },
    source: {
      label: 'Wells PS et al., Ann Intern Med 2001;135:98 (two tiers, > 4 likely); research note §5.3 and VK-3',
    },
  },
  {
    id: 'ana-without-symptoms',
    version: 1,
    kind: 'appropriateness',
    tests: ['ana'],
    action: 'warning',
    unless: [{ kind: 'indication', codes: ['ctd-signs'] }],
    title: { da: 'ANA-screening uden symptomer', en: 'ANA screening without symptoms' },
    message: {
      da: 'ANA kun ved typiske tegn på bindevævssygdom (ledhævelse, Raynaud, lysfølsomt udslæt, mundsår, tørre øjne/mund).',
      en: 'ANA only with typical signs of connective-tissue disease (joint swelling, Raynaud, photosensitive rash, ulcers, sicca).',
    },
    source: {
      label: 'Vælg Klogt ANA (OUH Praksisnyt Feb 2024 / Jun 2023; research note §2.2 VK-2)',
      url: 'https://www.ouh.dk',
    },
  },
  {
    id: 'ana-suspected-ra',
    version: 1,
    kind: 'suggestion',
    tests: ['ana'],
    action: 'info',
    when: [{ kind: 'indication', codes: ['suspected-ra'] }],
    title: { da: 'Mistanke om leddegigt: anti-CCP', en: 'Suspected rheumatoid arthritis: anti-CCP' },
    message: {
      da: 'Ved mistanke om leddegigt er anti-CCP den relevante test.',
      en: 'For suspected RA anti-CCP is the relevant test.',
    },
    suggest: { replaceWith: 'anti-ccp', label: { da: 'Bestil anti-CCP i stedet', en: 'Order anti-CCP instead' } },
    source: { label: 'Vælg Klogt ANA (research note §2.2 VK-2: suspected RA → anti-CCP)' },
  },
  {
    id: 'ctpa-score-first',
    version: 1,
    kind: 'suggestion',
    tests: ['ct-chest-contrast'],
    action: 'info',
    when: [{ kind: 'indication', codes: ['pe-suspected'] }],
    unless: [{ kind: 'indication', codes: ['wells-likely', 'wells-unlikely'] }],
    title: { da: 'Lungeemboli: score først', en: 'Pulmonary embolism: score first' },
    message: {
      da: 'Billeddiagnostik for lungeemboli kræver moderat/høj sandsynlighed; brug pakken "Mistanke om lungeemboli".',
      en: 'Imaging for PE needs a moderate/high pre-test probability; use the "Suspected PE" order set.',
    },
    suggest: {
      add: ['d-dimer'],
      label: { da: 'Brug pakken: Wells + D-dimer', en: 'Use the order set: Wells + D-dimer' },
    },
    source: { label: 'ACR Choosing Wisely (2012, updated 2017), research note §2.3 CW-7' },
  },
  {
    id: 'imaging-cumulative-dose-5y',
    version: 1,
    kind: 'imaging-cumulative-dose',
    tests: IONISING,
    windowDays: 1825,
    thresholdMSv: 100,
    action: 'warning',
    title: { da: 'Høj kumuleret stråledosis', en: 'High cumulative radiation dose' },
    message: {
      da: 'Patientens kumulerede effektive dosis de seneste 5 år inkl. denne undersøgelse er ≥ 100 mSv.',
      en: "The patient's cumulative effective dose in the last 5 years including this exam is ≥ 100 mSv.",
    },
    source: {
      label: 'Rehani MM et al., Eur Radiol 2020;30:1828 (recurrent CT, cumulative ≥ 100 mSv); doses: RadiologyInfo.org',
    },
  },
  {
    id: 'imaging-repeat-lumbar-5y',
    version: 1,
    kind: 'imaging-repeat',
    tests: ['xray-lumbar', 'ct-lumbar'],
    windowDays: 1825,
    action: 'warning',
    title: { da: 'Gentaget røntgen/CT af lænden inden for 5 år', en: 'Repeated lumbar X-ray/CT within 5 years' },
    message: {
      da: 'Der er lavet ioniserende billeddiagnostik af lænden inden for 5 år; dobbelte undersøgelser bør undgås.',
      en: 'Ionising lumbar imaging was done within 5 years; duplicate ionising examinations should not occur.',
    },
    source: {
      label: 'DSAM lændesmerter: billeddiagnostik (no relevant examination within 5 years)',
      url: 'https://www.dsam.dk/vejledninger/laendesmerter/billeddiagnostik',
    },
  },
  {
    id: 'contrast-egfr-below-30',
    version: 1,
    kind: 'contrast-egfr',
    tests: CONTRAST,
    egfrTest: 'egfr',
    below: 30,
    maxAgeDays: 90,
    missingFires: false,
    action: 'block',
    overrideRoles: ['radiologist'],
    title: { da: 'Kontrast ved eGFR under 30', en: 'Contrast with eGFR below 30' },
    message: {
      da: 'Seneste eGFR er under 30 mL/min/1,73 m²: kontrast kræver radiologens vurdering.',
      en: 'The latest eGFR is below 30 mL/min/1.73 m²: contrast needs a radiologist’s decision.',
    },
    source: G147('B-R (eGFR before contrast): high-risk agents contraindicated below 30'),
  },
  {
    id: 'contrast-egfr-missing-acute',
    version: 1,
    kind: 'contrast-egfr',
    tests: CONTRAST,
    egfrTest: 'egfr',
    below: 0,
    maxAgeDays: 7,
    missingFires: true,
    action: 'warning',
    scope: { settings: ['inpatient', 'icu', 'emergency'] },
    title: { da: 'Kontrast uden eGFR fra de seneste 7 dage', en: 'Contrast without an eGFR from the last 7 days' },
    message: {
      da: 'Akut syg patient: kontrast kræver en eGFR fra de seneste 7 dage.',
      en: 'Acutely ill patient: contrast needs an eGFR result from the previous 7 days.',
    },
    suggest: { add: ['egfr'], label: { da: 'Bestil eGFR', en: 'Order eGFR' } },
    source: G147('B-R (eGFR before contrast): result from the previous 7 days if acutely ill'),
  },
  {
    id: 'pregnancy-ionising',
    version: 1,
    kind: 'pregnancy-ionising',
    tests: IONISING,
    action: 'warning',
    title: { da: 'Ioniserende stråling under graviditet', en: 'Ionising radiation in pregnancy' },
    message: {
      da: 'Patienten er gravid: overvej ultralyd eller MR, og dokumentér indikationen.',
      en: 'The patient is pregnant: consider ultrasound or MRI and document the indication.',
    },
    source: {
      label: 'ACR–SPR Practice Parameter for Imaging Pregnant or Potentially Pregnant Patients with Ionizing Radiation',
      url: 'https://www.acr.org/Clinical-Resources/Practice-Parameters-and-Technical-Standards',
    },
  },
];

export const SEED_RULE_SET: RuleSet = {
  name: 'dxhub seed rule set (requires regional clinical approval)',
  // SKS diagnoses: D + ICD-10 chapter XV (O00–O99, pregnancy) and Z33 (pregnant state).
  pregnancyConditions: ['DO', 'DZ33'],
  overrideReasons: [
    {
      system: OVERRIDE_REASON_SYSTEM,
      code: 'clinically-indicated',
      display: 'Klinisk indiceret (fx rødt flag) / Clinically indicated (e.g. red flag)',
    },
    {
      system: OVERRIDE_REASON_SYSTEM,
      code: 'result-unavailable',
      display: 'Svar fra anden sektor ikke tilgængeligt / Result from another sector not available',
    },
    {
      system: OVERRIDE_REASON_SYSTEM,
      code: 'patient-deteriorating',
      display: 'Patientens tilstand forværret / Patient deteriorating',
    },
    {
      system: OVERRIDE_REASON_SYSTEM,
      code: 'agreed-with-lab',
      display: 'Aftalt med laboratoriet / Agreed with the laboratory',
    },
  ],
  rules: SEED_RULES,
};
