import {
  CPR_SYSTEM,
  dEcprSystem,
  parseCpr,
  replacementCprCandidates,
  SYNTHETIC_DATE_COUNT,
  syntheticCpr,
} from '../identity/index.ts';
import { demoRandom } from './demo-random.ts';
import { type DemoOrganisation, unitsWithRole } from './region-catalogue.ts';

/** A generated person: identity, home practice and the chronic conditions that drive the history. */
export interface DemoPatient {
  readonly index: number;
  readonly id: string;
  /** CPR (synthetic scheme) or, for a person without one, a D-eCPR. */
  readonly identifier: { readonly system: string; readonly value: string; readonly use: 'official' | 'temp' | 'old' }[];
  readonly cpr: string;
  readonly family: string;
  readonly given: string;
  readonly sex: 'male' | 'female';
  readonly birthDate: string;
  readonly practice: DemoOrganisation;
  readonly conditions: ReadonlySet<'diabetes' | 'ckd' | 'hyperlipidaemia'>;
}

// Common Danish names (Danmarks Statistik name lists are public); combinations are random.
const GIVEN_F = [
  'Anne',
  'Kirsten',
  'Mette',
  'Hanne',
  'Susanne',
  'Lene',
  'Maria',
  'Marianne',
  'Inge',
  'Camilla',
  'Ida',
  'Emma',
];
const GIVEN_M = [
  'Peter',
  'Jens',
  'Michael',
  'Lars',
  'Henrik',
  'Søren',
  'Thomas',
  'Niels',
  'Jan',
  'Rasmus',
  'Mads',
  'Frederik',
];
const FAMILY = [
  'Nielsen',
  'Jensen',
  'Hansen',
  'Pedersen',
  'Andersen',
  'Christensen',
  'Larsen',
  'Sørensen',
  'Rasmussen',
  'Jørgensen',
  'Petersen',
  'Madsen',
  'Kristensen',
  'Olsen',
  'Thomsen',
];

/** Share of patients identified by a D-eCPR (no CPR), and of patients whose old D-eCPR is kept as `old`. */
export const ECPR_ONLY_SHARE = 0.01;
export const ECPR_OLD_SHARE = 0.01;

/** The prevalence model of the generator: SIMULATION PARAMETERS by age band, not epidemiology. */
const CONDITION_RATE = {
  diabetes: (age: number) => (age < 30 ? 0.01 : age < 50 ? 0.04 : age < 70 ? 0.1 : 0.15),
  ckd: (age: number) => (age < 50 ? 0.01 : age < 70 ? 0.05 : 0.12),
  hyperlipidaemia: (age: number) => (age < 40 ? 0.02 : age < 60 ? 0.1 : 0.2),
} as const;

/** The patient id of the `index`-th demo patient. */
export function demoPatientId(index: number): string {
  return `dp-${index}`;
}

/**
 * The `index`-th patient of a region, deterministic from `seed`. CPR numbers come from
 * `syntheticCpr(index)` (fails modulus 11, never 1 January, serials from 9999 down: research note
 * identity-and-terminology §1.3), so they are unique per index and cannot be real people's numbers
 * issued before 2007; ~1 % carry a D-eCPR of Region Syddanmark instead, another ~1 % an old D-eCPR
 * beside their CPR.
 */
export function demoPatient(seed: number | string, index: number, asOf: number): DemoPatient {
  const r = demoRandom(seed, 'patient', index);
  const cpr = syntheticCpr(index);
  const parsed = parseCpr(cpr);
  if (!parsed.ok) throw new RangeError(`synthetic CPR ${index} does not parse`);
  const birthDate = parsed.birthDate;
  const sex: 'male' | 'female' = Number(cpr[9]) % 2 === 1 ? 'male' : 'female';
  const age = (asOf - Date.parse(birthDate)) / (365.25 * 86_400_000);
  const conditions = new Set<'diabetes' | 'ckd' | 'hyperlipidaemia'>();
  for (const c of ['diabetes', 'ckd', 'hyperlipidaemia'] as const)
    if (r.chance(CONDITION_RATE[c](age))) conditions.add(c);
  const identifier: DemoPatient['identifier'] = [];
  const ecprRoll = r.next();
  const ecpr = () => {
    const plan = replacementCprCandidates({ kind: 'd-ecpr', birthDate, sex, createdOn: '2020-01-02' });
    if (!plan.ok) throw new RangeError(`no D-eCPR for ${birthDate}`);
    // syntheticCpr visits each birth date once per SYNTHETIC_DATE_COUNT indices: the k-th candidate is unique.
    let k = Math.floor(index / SYNTHETIC_DATE_COUNT);
    for (const c of plan.candidates) if (k-- === 0) return c;
    throw new RangeError(`D-eCPR candidates exhausted for ${birthDate}`);
  };
  if (ecprRoll < ECPR_ONLY_SHARE) identifier.push({ system: dEcprSystem('syddanmark'), value: ecpr(), use: 'temp' });
  else {
    identifier.push({ system: CPR_SYSTEM, value: cpr, use: 'official' });
    if (ecprRoll < ECPR_ONLY_SHARE + ECPR_OLD_SHARE)
      identifier.push({ system: dEcprSystem('syddanmark'), value: ecpr(), use: 'old' });
  }
  return {
    index,
    id: demoPatientId(index),
    identifier,
    cpr,
    family: r.pick(FAMILY),
    given: r.pick(sex === 'male' ? GIVEN_M : GIVEN_F),
    sex,
    birthDate,
    practice: r.pick(unitsWithRole('gp')),
    conditions,
  };
}

/** The Patient resource of a demo patient. */
export function demoPatientResource(p: DemoPatient): Record<string, unknown> & { resourceType: string; id: string } {
  return {
    resourceType: 'Patient',
    id: p.id,
    identifier: p.identifier.map((i) => ({ use: i.use, system: i.system, value: i.value })),
    name: [{ use: 'official', family: p.family, given: [p.given] }],
    gender: p.sex,
    birthDate: p.birthDate,
    generalPractitioner: [{ reference: `Organization/${p.practice.code}` }],
  };
}
