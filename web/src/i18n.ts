/** UI texts in Danish and English; the user's choice is remembered (localStorage). */
import { createContext, useContext, useMemo } from 'react';

export type Lang = 'da' | 'en';

const da = {
  tagline: 'Diagnostisk datahub',
  language: 'English',
  languageLabel: 'Skift sprog til engelsk',
  signOut: 'Log ud',
  signInTitle: 'Log ind',
  signInHelp: 'Demo: vælg en bruger. Hver rolle ser det, dens rettigheder tillader.',
  signInOidc: 'Log ind via regionens login',
  noSignIn: 'Ingen login er sat op på denne server.',
  signInFailed: 'Login mislykkedes',
  loading: 'Henter …',
  cancel: 'Annullér',
  retry: 'Prøv igen',
  navPatients: 'Patienter',
  navMine: 'Mine data',
  navCounts: 'Nøgletal',
  navAdmin: 'Administration',
  signedInAs: 'Logget ind som',
  findPatient: 'Find patient',
  findHelp: 'CPR-nummer (10 cifre) eller navn',
  search: 'Søg',
  noPatients: 'Ingen patienter fundet.',
  withheld: 'Nogle resultater er skjult: ingen aktuel behandlingsrelation.',
  useVaerdispring: 'Brug værdispring …',
  name: 'Navn',
  cpr: 'CPR',
  born: 'Født',
  open: 'Åbn',
  back: 'Tilbage til søgning',
  timeline: 'Tidslinje',
  cumulative: 'Kumulativt laboratorieark',
  trends: 'Udvikling',
  orders: 'Åbne bestillinger',
  reports: 'Svarrapporter',
  noData: 'Ingen data.',
  analysis: 'Analyse',
  value: 'Resultat',
  unit: 'Enhed',
  when: 'Hvornår',
  where: 'Hvor',
  origin: 'Kilde',
  status: 'Status',
  lab: 'Laboratoriesvar',
  imaging: 'Billeddiagnostik',
  report: 'Rapport',
  critical: 'Kritisk værdi',
  referenceInterval: 'Referenceinterval',
  vdTitle: 'Værdispring',
  vdExplain:
    'Du har ingen aktuel behandlingsrelation til patienten (sundhedslovens § 42 a). Du kan se data, hvis det er nødvendigt af hensyn til patientens vitale interesser eller patienten giver samtykke. Adgangen logges og følges op.',
  vdBasis: 'Grundlag',
  vdVital: 'Vitale interesser (stk. 2)',
  vdConsent: 'Patientens samtykke (stk. 3)',
  vdReason: 'Begrundelse (5–500 tegn)',
  vdConfirm: 'Se data med værdispring',
  vdActive: 'Værdispring i brug',
  accessLog: 'Hvem har set mine data',
  who: 'Hvem',
  unitOrg: 'Enhed',
  what: 'Hvad',
  override: 'Værdispring',
  yes: 'ja',
  counts: 'Nøgletal (kun optællinger)',
  countsHelp: 'Antal i hele regionen; ledere ser aldrig enkeltjournaler.',
  countObservations: 'Laboratoriesvar',
  countReports: 'Svarrapporter',
  countActiveOrders: 'Aktive bestillinger',
  countDraftOrders: 'Kladder til bestillinger',
  countStudies: 'Billeddiagnostiske undersøgelser',
  deadLetters: 'Fejlede beskeder (HL7-indbakke)',
  reprocess: 'Genbehandl',
  reprocessed: 'Genbehandlet',
  received: 'Modtaget',
  sender: 'Afsender',
  type: 'Type',
  reason: 'Årsag',
  attempts: 'Forsøg',
  noDeadLetters: 'Ingen fejlede beskeder.',
  interfaces: 'Snitflader og analyseudstyr',
  listener: 'Lytter',
  queue: 'Kø',
  lastMessage: 'Seneste besked',
  breakGlass: 'Værdispring til opfølgning',
  reasonText: 'Begrundelse',
  noneYet: 'Ingen endnu.',
  error: 'Fejl',
};

export type TextKey = keyof typeof da;

const en: Record<TextKey, string> = {
  tagline: 'Diagnostic data hub',
  language: 'Dansk',
  languageLabel: 'Switch language to Danish',
  signOut: 'Sign out',
  signInTitle: 'Sign in',
  signInHelp: 'Demo: pick a user. Each role sees what its rights allow.',
  signInOidc: "Sign in with the region's login",
  noSignIn: 'No sign-in is configured on this server.',
  signInFailed: 'Sign-in failed',
  loading: 'Loading …',
  cancel: 'Cancel',
  retry: 'Try again',
  navPatients: 'Patients',
  navMine: 'My data',
  navCounts: 'Key figures',
  navAdmin: 'Administration',
  signedInAs: 'Signed in as',
  findPatient: 'Find a patient',
  findHelp: 'CPR number (10 digits) or name',
  search: 'Search',
  noPatients: 'No patients found.',
  withheld: 'Some results are withheld: no current treatment relation.',
  useVaerdispring: 'Use værdispring (override) …',
  name: 'Name',
  cpr: 'CPR',
  born: 'Born',
  open: 'Open',
  back: 'Back to search',
  timeline: 'Timeline',
  cumulative: 'Cumulative lab table',
  trends: 'Trends',
  orders: 'Open orders',
  reports: 'Reports',
  noData: 'No data.',
  analysis: 'Test',
  value: 'Result',
  unit: 'Unit',
  when: 'When',
  where: 'Where',
  origin: 'Source',
  status: 'Status',
  lab: 'Lab result',
  imaging: 'Imaging',
  report: 'Report',
  critical: 'Critical value',
  referenceInterval: 'Reference interval',
  vdTitle: 'Værdispring (override)',
  vdExplain:
    "You have no current treatment relation with this patient (Danish Health Act § 42 a). You may see the data when the patient's vital interests require it or the patient consents. The access is logged and reviewed.",
  vdBasis: 'Basis',
  vdVital: 'Vital interests (subsection 2)',
  vdConsent: "Patient's consent (subsection 3)",
  vdReason: 'Reason (5–500 characters)',
  vdConfirm: 'Show data with værdispring',
  vdActive: 'Værdispring in use',
  accessLog: 'Who looked at my data',
  who: 'Who',
  unitOrg: 'Unit',
  what: 'What',
  override: 'Override',
  yes: 'yes',
  counts: 'Key figures (counts only)',
  countsHelp: 'Counts for the whole region; managers never see a record.',
  countObservations: 'Lab results',
  countReports: 'Reports',
  countActiveOrders: 'Active orders',
  countDraftOrders: 'Draft orders',
  countStudies: 'Imaging studies',
  deadLetters: 'Failed messages (HL7 inbox)',
  reprocess: 'Reprocess',
  reprocessed: 'Reprocessed',
  received: 'Received',
  sender: 'Sender',
  type: 'Type',
  reason: 'Reason',
  attempts: 'Attempts',
  noDeadLetters: 'No failed messages.',
  interfaces: 'Interfaces and analyzers',
  listener: 'Listener',
  queue: 'Queue',
  lastMessage: 'Last message',
  breakGlass: 'Værdispring to review',
  reasonText: 'Reason',
  noneYet: 'None yet.',
  error: 'Error',
};

export const TEXTS: Record<Lang, Record<TextKey, string>> = { da, en };

const KEY = 'dxhub.lang';

/** The remembered language, else the browser's (Danish for `da*`, English otherwise). */
export function initialLang(): Lang {
  const saved = localStorage.getItem(KEY);
  if (saved === 'da' || saved === 'en') return saved;
  return navigator.language?.startsWith('da') ? 'da' : 'en';
}

export function rememberLang(lang: Lang): void {
  localStorage.setItem(KEY, lang);
}

export const LangContext = createContext<Lang>('da');

/** `t('key')` in the current language. */
export function useText(): (key: TextKey) => string {
  const lang = useContext(LangContext);
  // Stable per language, so effects that depend on it do not rerun on every render.
  return useMemo(() => (key: TextKey) => TEXTS[lang][key], [lang]);
}

export function useLocale(): string {
  return useContext(LangContext) === 'da' ? 'da-DK' : 'en-GB';
}
