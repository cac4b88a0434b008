import type { CatalogueItem, OrderSet, Source, Text } from '../types.ts';

/**
 * The seed catalogue of orderable analyses and imaging examinations. Codes are used only where
 * ../shared/research/identity-and-terminology.md §3.2/§5.5 verifies them; every other item carries
 * a clearly local code (`urn:dxhub:local:*`) until the region maps it. Turnaround and performing
 * section are regional configuration: the values here are placeholders a region replaces.
 */
export const NPU = 'http://npu-terminology.org';
export const SKS = 'urn:oid:1.2.208.176.2.4';
/** Local code systems: NOT national codes; a region maps them to NPU/SKS before production use. */
export const LOCAL_ANALYSIS = 'urn:dxhub:local:analysis';
export const LOCAL_IMAGING = 'urn:dxhub:local:imaging';

const TERMS: Source = {
  label: 'dxhub research: identity-and-terminology.md §3.2 (MedCom NPU terminology, regional lab handbooks)',
};
const SECONDARY: Source = {
  label: 'dxhub research: identity-and-terminology.md §3.2 (secondary source; confirm against the NPU release)',
};
const LOCAL: Source = { label: 'Local code: no verified NPU code found (dxhub research §3.2); map before use' };
const SKS_SRC: Source = {
  label: 'SKS (Sundhedsdatastyrelsen), verified in identity-and-terminology.md §5.5',
  url: 'https://sundhedsdatastyrelsen.dk/sks',
};
/** Typical adult effective doses: ACR/RSNA RadiologyInfo "Radiation Dose in X-Ray and CT Exams". */
const DOSE: Source = {
  label: 'RadiologyInfo.org (ACR/RSNA), Radiation dose in X-ray and CT exams: typical adult effective doses',
  url: 'https://www.radiologyinfo.org/en/info/safety-xray',
};

const KBA: Text = { da: 'Klinisk Biokemisk Afdeling', en: 'Department of Clinical Biochemistry' };
const KIA: Text = { da: 'Klinisk Immunologisk Afdeling', en: 'Department of Clinical Immunology' };
const RAD: Text = { da: 'Radiologisk Afdeling', en: 'Department of Radiology' };
const PLASMA = {
  type: { da: 'Plasma (venøs)', en: 'Plasma (venous)' },
  container: { da: 'Lithium-heparin-glas, grøn prop', en: 'Lithium heparin tube, green top' },
};
const SERUM = {
  type: { da: 'Serum (venøs)', en: 'Serum (venous)' },
  container: { da: 'Serumglas med gel, gul prop', en: 'Serum gel tube, yellow top' },
};
const EDTA = {
  type: { da: 'Fuldblod (venøs)', en: 'Whole blood (venous)' },
  container: { da: 'EDTA-glas, lilla prop', en: 'EDTA tube, lavender top' },
};
const CITRATE = {
  type: { da: 'Citratplasma', en: 'Citrated plasma' },
  container: { da: 'Citratglas, blå prop', en: 'Citrate tube, light blue top' },
};
const ALL: CatalogueItem['priorities'] = ['routine', 'urgent', 'stat'];
const ROUTINE_URGENT: CatalogueItem['priorities'] = ['routine', 'urgent'];

const lab = (
  id: string,
  system: string,
  code: string,
  title: Text,
  synonyms: string[],
  specimen: CatalogueItem['specimen'],
  source: Source,
  extra: Partial<CatalogueItem> = {},
): CatalogueItem => ({
  id,
  kind: 'lab',
  code: { system, code, display: title.da },
  title,
  synonyms,
  specimen,
  performer: KBA,
  turnaroundHours: 4,
  priorities: ALL,
  source,
  ...extra,
});

const imaging = (
  id: string,
  system: string,
  code: string,
  title: Text,
  synonyms: string[],
  modality: NonNullable<CatalogueItem['modality']>,
  effectiveDoseMSv: number,
  contrast: boolean,
): CatalogueItem => ({
  id,
  kind: 'imaging',
  code: { system, code, display: title.da },
  title,
  synonyms,
  performer: RAD,
  turnaroundHours: 72,
  priorities: ALL,
  modality,
  effectiveDoseMSv,
  contrast,
  source: system === SKS ? { ...SKS_SRC, ref: `dose: ${DOSE.label}` } : { ...LOCAL, ref: `dose: ${DOSE.label}` },
});

export const CATALOGUE: readonly CatalogueItem[] = [
  lab(
    'crp',
    NPU,
    'NPU19748',
    { da: 'C-reaktivt protein', en: 'C-reactive protein' },
    ['CRP', 'P-CRP', 'infektionstal', 'inflammation'],
    PLASMA,
    TERMS,
  ),
  lab(
    'hb',
    NPU,
    'NPU02319',
    { da: 'Hæmoglobin', en: 'Haemoglobin' },
    ['Hb', 'hemoglobin', 'blodprocent', 'anæmi', 'anaemia'],
    EDTA,
    TERMS,
  ),
  lab(
    'leukocytes',
    NPU,
    'NPU02593',
    { da: 'Leukocytter', en: 'Leukocytes' },
    ['leuko', 'WBC', 'hvide blodlegemer', 'white cell count'],
    EDTA,
    TERMS,
  ),
  lab(
    'platelets',
    NPU,
    'NPU03568',
    { da: 'Trombocytter', en: 'Platelets' },
    ['trombo', 'PLT', 'blodplader'],
    EDTA,
    TERMS,
  ),
  lab(
    'creatinine',
    NPU,
    'NPU18016',
    { da: 'Kreatinin', en: 'Creatinine' },
    ['krea', 'creatininium', 'nyretal', 'kidney function'],
    PLASMA,
    TERMS,
  ),
  lab(
    'egfr',
    NPU,
    'DNK35302',
    { da: 'eGFR (CKD-EPI)', en: 'eGFR (CKD-EPI)' },
    ['GFR', 'glomerulær filtration', 'nyrefunktion', 'kidney function'],
    PLASMA,
    TERMS,
  ),
  lab(
    'sodium',
    NPU,
    'NPU03429',
    { da: 'Natrium', en: 'Sodium' },
    ['Na', 'natrium-ion', 'væsketal', 'electrolytes'],
    PLASMA,
    TERMS,
  ),
  lab(
    'potassium',
    NPU,
    'NPU03230',
    { da: 'Kalium', en: 'Potassium' },
    ['K', 'kalium-ion', 'væsketal', 'electrolytes'],
    PLASMA,
    TERMS,
  ),
  lab(
    'inr',
    NPU,
    'NPU01685',
    { da: 'Koagulationsfaktor II+VII+X (INR)', en: 'INR' },
    ['INR', 'PP', 'koagulationstal', 'warfarin', 'marevan'],
    CITRATE,
    TERMS,
  ),
  lab(
    'hba1c',
    NPU,
    'NPU27300',
    { da: 'Hæmoglobin A1c (IFCC)', en: 'Haemoglobin A1c (IFCC)' },
    ['HbA1c', 'A1c', 'langtidsblodsukker', 'long-term blood sugar', 'diabetes'],
    EDTA,
    SECONDARY,
    {
      aliases: [{ system: NPU, code: 'NPU03835', display: 'HbA1c (DCCT), old code' }],
    },
  ),
  lab(
    'tsh',
    NPU,
    'NPU03577',
    { da: 'Thyrotropin (TSH)', en: 'Thyrotropin (TSH)' },
    ['TSH', 'stofskifte', 'thyroid', 'thyreoidea'],
    SERUM,
    TERMS,
  ),
  lab(
    'ferritin',
    NPU,
    'NPU19763',
    { da: 'Ferritin', en: 'Ferritin' },
    ['jerndepot', 'iron stores', 'jern'],
    SERUM,
    TERMS,
    {
      aliases: [{ system: NPU, code: 'NPU03899', display: 'P—Ferritin; stofk.' }],
    },
  ),
  lab(
    'vitamin-d',
    NPU,
    'NPU10267',
    { da: '25-hydroxy-vitamin D', en: '25-hydroxyvitamin D' },
    ['D-vitamin', 'vitamin D', '25-OH-D', 'calcifediol'],
    SERUM,
    TERMS,
  ),
  lab(
    'ldl',
    NPU,
    'NPU01568',
    { da: 'LDL-kolesterol', en: 'LDL cholesterol' },
    ['LDL', 'kolesterol', 'cholesterol', 'lipider', 'lipids'],
    PLASMA,
    TERMS,
  ),
  lab(
    'alat',
    NPU,
    'NPU19651',
    { da: 'Alanintransaminase (ALAT)', en: 'Alanine aminotransferase (ALT)' },
    ['ALAT', 'ALT', 'levertal', 'liver function'],
    PLASMA,
    SECONDARY,
  ),
  lab(
    'troponin-t',
    NPU,
    'NPU27501',
    { da: 'Troponin T (hs)', en: 'Troponin T (high-sensitivity)' },
    ['TnT', 'troponin', 'hjertetal', 'myocardial infarction'],
    PLASMA,
    TERMS,
    {
      turnaroundHours: 1,
    },
  ),
  lab(
    'urine-culture',
    NPU,
    'NPU16328',
    { da: 'Urin, dyrkning', en: 'Urine culture' },
    ['urindyrkning', 'UVI', 'UTI', 'midtstråleurin'],
    {
      type: { da: 'Midtstråleurin', en: 'Midstream urine' },
      container: { da: 'Urinrør med borsyre', en: 'Urine tube with boric acid' },
    },
    TERMS,
    {
      performer: { da: 'Klinisk Mikrobiologisk Afdeling', en: 'Department of Clinical Microbiology' },
      turnaroundHours: 48,
      priorities: ROUTINE_URGENT,
    },
  ),
  lab(
    'esr',
    LOCAL_ANALYSIS,
    'esr',
    { da: 'Sænkningsreaktion (SR)', en: 'Erythrocyte sedimentation rate (ESR)' },
    ['SR', 'ESR', 'sænkning', 'sedimentation'],
    EDTA,
    LOCAL,
    { priorities: ROUTINE_URGENT },
  ),
  lab(
    'd-dimer',
    LOCAL_ANALYSIS,
    'd-dimer',
    { da: 'Fibrin D-dimer', en: 'Fibrin D-dimer' },
    ['D-dimer', 'DD', 'blodprop', 'lungeemboli', 'pulmonary embolism', 'DVT'],
    CITRATE,
    {
      label: 'Local code: NPU28289/NPU19767 seen only in Norwegian sources (research §3.2, unverified for Denmark)',
    },
  ),
  lab(
    'ana',
    LOCAL_ANALYSIS,
    'ana',
    { da: 'Antinukleære antistoffer (ANA)', en: 'Antinuclear antibodies (ANA)' },
    ['ANA', 'HEp-2', 'bindevævssygdom', 'connective tissue disease'],
    SERUM,
    LOCAL,
    {
      performer: KIA,
      turnaroundHours: 120,
      priorities: ['routine'],
    },
  ),
  lab(
    'anti-ccp',
    LOCAL_ANALYSIS,
    'anti-ccp',
    { da: 'Anti-CCP-antistof', en: 'Anti-CCP antibody' },
    ['CCP', 'ACPA', 'leddegigt', 'rheumatoid arthritis'],
    SERUM,
    LOCAL,
    {
      performer: KIA,
      turnaroundHours: 120,
      priorities: ['routine'],
    },
  ),
  lab(
    'procalcitonin',
    LOCAL_ANALYSIS,
    'procalcitonin',
    { da: 'Procalcitonin', en: 'Procalcitonin' },
    ['PCT', 'sepsis'],
    PLASMA,
    LOCAL,
  ),
  lab(
    'nt-probnp',
    LOCAL_ANALYSIS,
    'nt-probnp',
    { da: 'NT-proBNP', en: 'NT-proBNP' },
    ['BNP', 'natriuretisk peptid', 'hjertesvigt', 'heart failure'],
    PLASMA,
    LOCAL,
  ),
  imaging(
    'ct-head',
    SKS,
    'UXCA00',
    { da: 'CT-skanning af cerebrum', en: 'CT of the brain' },
    ['CT hoved', 'CT hjerne', 'head CT', 'cerebral CT'],
    'CT',
    2,
    false,
  ),
  imaging(
    'ct-chest-contrast',
    LOCAL_IMAGING,
    'ct-chest-contrast',
    { da: 'CT af thorax med kontrast', en: 'CT of the chest with contrast' },
    ['CT thorax', 'CTPA', 'lungeemboli', 'pulmonary angiography', 'chest CT'],
    'CT',
    7,
    true,
  ),
  imaging(
    'ct-abdomen-contrast',
    LOCAL_IMAGING,
    'ct-abdomen-contrast',
    { da: 'CT af abdomen og bækken med kontrast', en: 'CT of the abdomen and pelvis with contrast' },
    ['CT abdomen', 'CT mave', 'abdominal CT'],
    'CT',
    10,
    true,
  ),
  imaging(
    'ct-lumbar',
    LOCAL_IMAGING,
    'ct-lumbar',
    { da: 'CT af lændecolumna', en: 'CT of the lumbar spine' },
    ['CT ryg', 'CT lænd', 'lumbar CT', 'spine CT'],
    'CT',
    6,
    false,
  ),
  imaging(
    'xray-lumbar',
    LOCAL_IMAGING,
    'xray-lumbar',
    { da: 'Røntgen af lændecolumna', en: 'X-ray of the lumbar spine' },
    ['rtg lænd', 'røntgen ryg', 'lumbar X-ray', 'spine radiograph'],
    'DX',
    1.5,
    false,
  ),
  imaging(
    'mr-lumbar',
    LOCAL_IMAGING,
    'mr-lumbar',
    { da: 'MR af lændecolumna', en: 'MRI of the lumbar spine' },
    ['MR ryg', 'MR lænd', 'lumbar MRI', 'MRI back'],
    'MR',
    0,
    false,
  ),
  imaging(
    'xray-chest',
    LOCAL_IMAGING,
    'xray-chest',
    { da: 'Røntgen af thorax', en: 'Chest X-ray' },
    ['rtg thorax', 'lungebillede', 'CXR', 'chest radiograph'],
    'DX',
    0.1,
    false,
  ),
];

/** Order sets and standard pathways (PlanDefinition). Local content: a region replaces them. */
export const ORDER_SETS: readonly OrderSet[] = [
  {
    id: 'kidney-function',
    title: { da: 'Nyrefunktion', en: 'Kidney function' },
    synonyms: ['nyretal', 'renal panel', 'væsketal'],
    tests: ['creatinine', 'egfr', 'sodium', 'potassium'],
    source: { label: 'Local order set (dxhub seed); G147 B-R1 on U&E follow-up' },
  },
  {
    id: 'diabetes-annual',
    title: { da: 'Diabetes årskontrol', en: 'Diabetes annual review' },
    synonyms: ['diabetes kontrol', 'diabetes review'],
    tests: ['hba1c', 'creatinine', 'egfr', 'ldl'],
    source: {
      label: 'Local order set (dxhub seed); Vælg Klogt langtidsblodsukker',
      url: 'https://vaelgklogt.dk/anbefalinger/langtidsblodsukker',
    },
  },
  {
    id: 'suspected-pe',
    title: { da: 'Mistanke om lungeemboli (Wells først)', en: 'Suspected pulmonary embolism (Wells first)' },
    synonyms: ['lungeemboli', 'PE', 'pulmonary embolism'],
    tests: ['d-dimer'],
    source: { label: 'Wells PS et al., Ann Intern Med 2001;135:98; Vælg Klogt D-dimer (research §2.2 VK-3)' },
  },
];
