/**
 * Synthetic clinical demo data for `serve --demo` (the web app's patient overview needs something
 * to show). Everything here is invented EXCEPT the codes and limits, which carry their source:
 * NPU codes from the research note `identity-and-terminology.md` §NPU table (MedCom-T), reference
 * intervals from the cited lab handbooks, critical limits from `ordering-and-results.md` §4.1. The
 * values a lab sends (`referenceRange`, `interpretation` HH/LL) are what the web app draws: it holds
 * no clinical limits of its own.
 */

/** One demo analysis: NPU code, UCUM unit, adult reference interval and critical limits, cited. */
export interface DemoAnalysis {
  readonly npu: string;
  readonly display: string;
  readonly unit: string;
  readonly reference: { readonly low: number; readonly high: number; readonly source: string };
  readonly critical?: { readonly low: number; readonly high: number; readonly source: string };
}

export const DEMO_ANALYSES: Readonly<Record<'hb' | 'k' | 'na', DemoAnalysis>> = Object.freeze({
  hb: {
    npu: 'NPU02319',
    display: 'B—Hæmoglobin(Fe); stofk.',
    unit: 'mmol/L',
    reference: {
      low: 7.3,
      high: 9.5,
      source:
        'Women ≥ 18 y: sundhed.dk Lægehåndbogen, Hæmoglobin (https://www.sundhed.dk/sundhedsfaglig/laegehaandbogen/undersoegelser-og-proever/klinisk-biokemi/blodproever/haemoglobin/)',
    },
  },
  k: {
    npu: 'NPU03230',
    display: 'P—Kalium-ion; stofk.',
    unit: 'mmol/L',
    reference: {
      low: 3.5,
      high: 4.4,
      source:
        'Adults ≥ 18 y, NORIP, as published by Karolinska (https://www.karolinska.se/KUL/Alla-anvisningar/Anvisning/9140)',
    },
    critical: {
      low: 2.8,
      high: 6.2,
      source: 'Kost GJ, JAMA 1990;263:704–707 (research note ordering-and-results §4.1)',
    },
  },
  na: {
    npu: 'NPU03429',
    display: 'P—Natrium-ion; stofk.',
    unit: 'mmol/L',
    reference: {
      low: 137,
      high: 145,
      source:
        'Region Halland, Laboratoriet informerar 161219 (http://www.regionhalland.se/vard-halsa/for-vardgivare/laboratorier/nyhetslista/laboratoriet-informerar-klinisk-kemi-161219/)',
    },
    critical: {
      low: 120,
      high: 158,
      source: 'Kost GJ, JAMA 1990;263:704–707 (research note ordering-and-results §4.1)',
    },
  },
});

/** One sampling: which lab, how many days before today, and the values measured. */
export interface DemoSampling {
  readonly lab: string;
  readonly daysAgo: number;
  readonly values: Partial<Record<keyof typeof DEMO_ANALYSES, number>>;
}

/** A demo patient: the demo citizen (admitted to the demo clinician's department) and one who is not. */
export interface DemoPatient {
  readonly id: string;
  readonly cpr: string;
  readonly family: string;
  readonly given: string;
  readonly gender: 'female' | 'male';
  readonly birthDate: string;
  /** Department with an in-progress Encounter (the treatment relation). */
  readonly admittedTo: string;
  readonly samplings: readonly DemoSampling[];
  readonly imaging?: { readonly daysAgo: number; readonly description: string; readonly conclusion: string };
  /** Orders not yet done: `active` (sent to the lab) and `draft` (being written). */
  readonly openOrders: readonly {
    readonly status: 'active' | 'draft';
    readonly lab: string;
    readonly analysis: 'hb' | 'k' | 'na';
  }[];
}

/** Synthetic CPR numbers (taken from the test corpus, not real persons). */
export const DEMO_PATIENTS: readonly DemoPatient[] = Object.freeze([
  {
    id: 'demo-patient-1',
    cpr: '0101801234',
    family: 'Nielsen',
    given: 'Anna',
    gender: 'female',
    birthDate: '1980-01-01',
    admittedTo: 'demo-ouh-med',
    samplings: [
      { lab: 'demo-sve-kba-rutine', daysAgo: 60, values: { hb: 8.4, k: 3.9, na: 141 } },
      { lab: 'demo-sve-kba-rutine', daysAgo: 30, values: { hb: 8.0, k: 4.0, na: 140 } },
      { lab: 'demo-ouh-kba-akut', daysAgo: 9, values: { hb: 7.6, k: 4.6, na: 136 } },
      { lab: 'demo-ouh-kba-akut', daysAgo: 7, values: { hb: 6.9, k: 6.4, na: 134 } },
      { lab: 'demo-ouh-kba-akut', daysAgo: 5, values: { hb: 7.1, k: 5.1, na: 137 } },
      { lab: 'demo-ouh-kba-akut', daysAgo: 3, values: { hb: 7.4, k: 4.3, na: 139 } },
      { lab: 'demo-ouh-kba-akut', daysAgo: 1, values: { hb: 7.8, k: 4.1, na: 140 } },
    ],
    imaging: {
      daysAgo: 4,
      description: 'CT thorax (demo)',
      conclusion: 'Synthetic demo report: no acute findings.',
    },
    openOrders: [
      { status: 'active', lab: 'demo-ouh-kba-akut', analysis: 'k' },
      { status: 'draft', lab: 'demo-ouh-kba-akut', analysis: 'hb' },
    ],
  },
  {
    id: 'demo-patient-2',
    cpr: '0201919990',
    family: 'Jensen',
    given: 'Bo',
    gender: 'male',
    birthDate: '1991-01-02',
    admittedTo: 'demo-sve-akm',
    samplings: [
      { lab: 'demo-sve-kba-rutine', daysAgo: 2, values: { k: 3.7, na: 138 } },
      { lab: 'demo-sve-kba-rutine', daysAgo: 1, values: { k: 3.6, na: 139 } },
    ],
    openOrders: [],
  },
]);
