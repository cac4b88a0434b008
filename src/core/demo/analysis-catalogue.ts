import { NPU_SYSTEM, UCUM_SYSTEM } from '../hl7/v2-to-fhir/v2-code-systems.ts';

/** Local code system for analyses without a verified national code (e.g. D-dimer, research note §3.2). */
export const LOCAL_ANALYSIS_SYSTEM = 'urn:dxhub:local:analysis';
/** Local code system for the demo's order panels (a requisition of several analyses). */
export const LOCAL_PANEL_SYSTEM = 'urn:dxhub:local:panel';
/** Local code system for imaging procedures: SKS procedure codes were not verified, so none is used. */
export const LOCAL_IMAGING_SYSTEM = 'urn:dxhub:local:imaging';

/** Where a code, interval or limit comes from. */
export interface Citation {
  readonly source: string;
}

/** A limit with its source (reference interval, critical value). */
export interface CitedLimit extends Citation {
  readonly low?: number;
  readonly high?: number;
  /** Only for one sex. */
  readonly sex?: 'male' | 'female';
}

/**
 * How the generator draws values: a log-normal around `median` (healthy) or `diseaseMedian`
 * (the patient has the condition the analysis monitors). These are SIMULATION PARAMETERS chosen
 * so that most values fall inside the cited reference interval; they are not clinical knowledge.
 */
export interface ValueModel {
  readonly median: number;
  readonly sigma: number;
  readonly diseaseMedian?: number;
  readonly decimals: number;
}

/** One analysis the demo orders and reports. */
export interface DemoAnalysis {
  readonly key: string;
  readonly system: string;
  readonly code: string;
  readonly display: string;
  /** UCUM code and the unit as printed. */
  readonly unit: string;
  readonly codeSource: string;
  readonly referenceRange?: readonly CitedLimit[];
  readonly critical?: CitedLimit;
  readonly values: ValueModel;
  /** The analyzer's own test code in ASTM R-3 (instrument-local, `urn:dxhub:local:astm:<analyzer>`). */
  readonly astmCode: string;
}

const MEDCOM_T = 'medcomdk/dk-medcom-terminology NPUObservationCodes.fsh (research note identity-and-terminology §3.2)';
const RCPATH_2017 =
  'RCPath, The communication of critical and unexpected pathology results (Oct 2017), adults (research note ordering-and-results §4.1)';

/** The analyses of the demo region, as data with their citations. */
export const DEMO_ANALYSES: readonly DemoAnalysis[] = Object.freeze([
  {
    key: 'hb',
    system: NPU_SYSTEM,
    code: 'NPU02319',
    display: 'B—Hæmoglobin(Fe); stofk.',
    unit: 'mmol/L',
    codeSource: MEDCOM_T,
    referenceRange: [
      { low: 8.3, high: 10.5, sex: 'male', source: 'sundhed.dk Lægehåndbogen (research note §3.2)' },
      { low: 7.3, high: 9.5, sex: 'female', source: 'sundhed.dk Lægehåndbogen (research note §3.2)' },
    ],
    values: { median: 8.7, sigma: 0.08, diseaseMedian: 7.4, decimals: 1 },
    astmCode: 'HB',
  },
  {
    key: 'creatinine',
    system: NPU_SYSTEM,
    code: 'NPU18016',
    display: 'P—Creatininium; stofk.',
    unit: 'umol/L',
    codeSource: MEDCOM_T,
    critical: { high: 354, source: RCPATH_2017 },
    values: { median: 80, sigma: 0.18, diseaseMedian: 170, decimals: 0 },
    astmCode: 'CREA',
  },
  {
    key: 'potassium',
    system: NPU_SYSTEM,
    code: 'NPU03230',
    display: 'P—Kalium-ion; stofk.',
    unit: 'mmol/L',
    codeSource: MEDCOM_T,
    critical: { low: 2.5, high: 6.5, source: RCPATH_2017 },
    values: { median: 4.1, sigma: 0.08, diseaseMedian: 4.7, decimals: 1 },
    astmCode: 'K',
  },
  {
    key: 'sodium',
    system: NPU_SYSTEM,
    code: 'NPU03429',
    display: 'P—Natrium-ion; stofk.',
    unit: 'mmol/L',
    codeSource: MEDCOM_T,
    critical: { low: 120, high: 160, source: RCPATH_2017 },
    values: { median: 140, sigma: 0.02, diseaseMedian: 136, decimals: 0 },
    astmCode: 'NA',
  },
  {
    key: 'crp',
    system: NPU_SYSTEM,
    code: 'NPU19748',
    display: 'P—C-reaktivt protein; massek.',
    unit: 'mg/L',
    codeSource: MEDCOM_T,
    critical: { high: 300, source: `${RCPATH_2017}; GP requests only` },
    values: { median: 3, sigma: 0.9, diseaseMedian: 60, decimals: 0 },
    astmCode: 'CRP',
  },
  {
    key: 'glucose',
    system: NPU_SYSTEM,
    code: 'NPU21531',
    display: 'P(vB)—Glucose; stofk.',
    unit: 'mmol/L',
    codeSource: MEDCOM_T,
    critical: { low: 2.5, high: 25, source: RCPATH_2017 },
    values: { median: 5.4, sigma: 0.12, diseaseMedian: 8.5, decimals: 1 },
    astmCode: 'GLU',
  },
  {
    key: 'leukocytes',
    system: NPU_SYSTEM,
    code: 'NPU02593',
    display: 'B—Leukocytter; antalk.',
    unit: '10*9/L',
    codeSource: MEDCOM_T,
    values: { median: 7, sigma: 0.25, diseaseMedian: 12, decimals: 1 },
    astmCode: 'WBC',
  },
  {
    key: 'hba1c',
    system: NPU_SYSTEM,
    code: 'NPU27300',
    display: 'B—Hæmoglobin A1c (IFCC); stofk.',
    unit: 'mmol/mol',
    codeSource: 'Danish register-research code (secondary source, research note §3.2)',
    referenceRange: [
      {
        high: 48,
        source: 'Diagnostic cut-off ≥ 48 mmol/mol since 2011, vaelgklogt.dk/anbefalinger/langtidsblodsukker',
      },
    ],
    values: { median: 36, sigma: 0.08, diseaseMedian: 56, decimals: 0 },
    astmCode: 'A1C',
  },
  {
    key: 'cholesterol',
    system: NPU_SYSTEM,
    code: 'NPU01566',
    display: 'P—Kolesterol; stofk.',
    unit: 'mmol/L',
    codeSource: 'Danish research code (secondary source, research note §3.2)',
    values: { median: 5.0, sigma: 0.15, diseaseMedian: 6.2, decimals: 1 },
    astmCode: 'CHOL',
  },
  {
    key: 'ldl',
    system: NPU_SYSTEM,
    code: 'NPU01568',
    display: 'P—Kolesterol+ester, i LDL; stofk.',
    unit: 'mmol/L',
    codeSource: 'Region Sjælland lab handbook (research note §3.2)',
    values: { median: 2.9, sigma: 0.2, diseaseMedian: 3.9, decimals: 1 },
    astmCode: 'LDL',
  },
  {
    key: 'troponin',
    system: NPU_SYSTEM,
    code: 'NPU27501',
    display: 'P—Troponin T, hjertemuskel; massek.',
    unit: 'ng/L',
    codeSource: 'Sygehus Lillebælt lab handbook (research note §3.2)',
    referenceRange: [{ high: 14, source: 'Sygehus Lillebælt lab handbook: reference < 14 ng/L (research note §3.2)' }],
    values: { median: 8, sigma: 0.6, diseaseMedian: 60, decimals: 0 },
    astmCode: 'TNT',
  },
  {
    key: 'ddimer',
    system: LOCAL_ANALYSIS_SYSTEM,
    code: 'D-DIMER',
    display: 'P—Fibrin D-dimer; massek. (local code)',
    unit: 'mg/L',
    codeSource:
      'Local code: NPU28289/NPU19767 are from Norwegian sources only, unverified for Denmark (research note §3.2)',
    values: { median: 0.35, sigma: 0.6, diseaseMedian: 2.5, decimals: 2 },
    astmCode: 'DDI',
  },
]);

const BY_KEY = new Map(DEMO_ANALYSES.map((a) => [a.key, a]));

/** An analysis by key; throws for a key not in the catalogue (a programming error). */
export function demoAnalysis(key: string): DemoAnalysis {
  const a = BY_KEY.get(key);
  if (!a) throw new RangeError(`unknown demo analysis '${key}'`);
  return a;
}

/** An order panel: what a requisition asks for. */
export interface DemoPanel {
  readonly key: string;
  readonly display: string;
  readonly analyses: readonly string[];
}

/** Order panels (local codes); a one-analysis panel is ordered by the analysis's own code. */
export const DEMO_PANELS: readonly DemoPanel[] = Object.freeze([
  { key: 'hba1c', display: 'HbA1c', analyses: ['hba1c'] },
  { key: 'kidney', display: 'Nyretal / kidney function', analyses: ['creatinine', 'potassium', 'sodium'] },
  { key: 'lipids', display: 'Lipidstatus / lipids', analyses: ['cholesterol', 'ldl'] },
  {
    key: 'gp-basic',
    display: 'Basisblodprøver / basic panel',
    analyses: ['hb', 'crp', 'creatinine', 'sodium', 'potassium', 'glucose'],
  },
  {
    key: 'acute-basic',
    display: 'Akutpakke / acute panel',
    analyses: ['hb', 'crp', 'leukocytes', 'creatinine', 'sodium', 'potassium'],
  },
  { key: 'troponin', display: 'Troponin T', analyses: ['troponin'] },
  { key: 'ddimer', display: 'D-dimer', analyses: ['ddimer'] },
]);

/** A panel by key; throws for a key not in the catalogue. */
export function demoPanel(key: string): DemoPanel {
  const p = DEMO_PANELS.find((x) => x.key === key);
  if (!p) throw new RangeError(`unknown demo panel '${key}'`);
  return p;
}

/** The code a panel is ordered with: the analysis's code for one analysis, else the local panel code. */
export function panelCoding(panel: DemoPanel): { system: string; code: string; display: string } {
  if (panel.analyses.length === 1) {
    const a = demoAnalysis(panel.analyses[0]!);
    return { system: a.system, code: a.code, display: a.display };
  }
  return { system: LOCAL_PANEL_SYSTEM, code: panel.key, display: panel.display };
}

/** An imaging procedure (local code) with report templates in Danish. */
export interface DemoImagingProcedure {
  readonly code: string;
  readonly display: string;
  /** DICOM modality (DCM CID 29). */
  readonly modality: 'CT' | 'DX';
  readonly normal: string;
  readonly findings: readonly string[];
}

/** Imaging procedures of the demo; local codes, report texts invented for the demo. */
export const DEMO_IMAGING: readonly DemoImagingProcedure[] = Object.freeze([
  {
    code: 'RTG-THORAX',
    display: 'Røntgen af thorax',
    modality: 'DX',
    normal: 'Normale forhold i thorax. Ingen infiltrater. Normal hjertestørrelse.',
    findings: ['Infiltrat i højre underlap, forenelig med pneumoni.', 'Lille pleuraekssudat på venstre side.'],
  },
  {
    code: 'CT-THORAX-LE',
    display: 'CT af thorax med kontrast (lungeemboli)',
    modality: 'CT',
    normal: 'Ingen lungeemboli. Ingen infiltrater eller ekssudat.',
    findings: ['Lungeemboli i højre underlapsarterie.', 'Subsegmentær lungeemboli i venstre overlap.'],
  },
  {
    code: 'CT-CEREBRUM',
    display: 'CT af cerebrum uden kontrast',
    modality: 'CT',
    normal: 'Ingen blødning, ingen tegn på infarkt. Normale ventrikler.',
    findings: ['Ældre lakunært infarkt i venstre basalganglie.'],
  },
]);

/** UCUM system, re-exported for the resource builders. */
export { UCUM_SYSTEM };
