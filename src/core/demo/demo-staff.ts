import { DEMO_ANALYSES } from './analysis-catalogue.ts';
import { demoRandom } from './demo-random.ts';
import type { DemoResource } from './demo-resources.ts';
import { REGION_ORGANISATIONS, unitsWithRole } from './region-catalogue.ts';

/** Identifier system of demo analyzers and modalities (local). */
export const DEMO_DEVICE_SYSTEM = 'urn:dxhub:local:device';

const GIVEN = [
  'Anne',
  'Lars',
  'Mette',
  'Søren',
  'Camilla',
  'Henrik',
  'Ida',
  'Mads',
  'Louise',
  'Jakob',
  'Sofie',
  'Niels',
];
const FAMILY = ['Holm', 'Bach', 'Kjær', 'Lund', 'Dahl', 'Berg', 'Vestergaard', 'Mortensen', 'Poulsen', 'Frost'];

/** Which professional roles (src/core/security/roles.ts kinds) staff each kind of unit. */
const STAFFING: readonly {
  readonly unitRole: 'lab' | 'imaging' | 'ward' | 'emergency' | 'gp';
  readonly roles: readonly string[];
}[] = [
  { unitRole: 'lab', roles: ['lab-technologist', 'lab-technologist', 'lab-physician', 'department-manager'] },
  { unitRole: 'imaging', roles: ['radiographer', 'radiographer', 'radiologist'] },
  { unitRole: 'ward', roles: ['clinician', 'clinician', 'department-manager'] },
  { unitRole: 'emergency', roles: ['clinician', 'clinician'] },
  { unitRole: 'gp', roles: ['clinician'] },
];

/** Region-level people: research and administration (citizens are the patients; integration is a system account). */
const REGION_STAFF = { unit: 'demo-rsd', roles: ['researcher', 'admin'] } as const;

/** Practitioners and PractitionerRoles for every unit: each role the access model knows, at realistic places. */
export function staffResources(seed: number | string): DemoResource[] {
  const out: DemoResource[] = [];
  const places = STAFFING.flatMap(({ unitRole, roles }) => unitsWithRole(unitRole).map((unit) => ({ unit, roles })));
  places.push({ unit: REGION_ORGANISATIONS.find((u) => u.code === REGION_STAFF.unit)!, roles: REGION_STAFF.roles });
  for (const { unit, roles } of places) {
    roles.forEach((role, i) => {
      const r = demoRandom(seed, 'staff', unit.code, i);
      const id = `ds-${unit.code}-${i}`;
      out.push({
        resourceType: 'Practitioner',
        id,
        active: true,
        name: [{ family: r.pick(FAMILY), given: [r.pick(GIVEN)] }],
      });
      out.push({
        resourceType: 'PractitionerRole',
        id: `${id}-role`,
        active: true,
        practitioner: { reference: `Practitioner/${id}` },
        organization: { reference: `Organization/${unit.code}` },
        code: [{ coding: [{ system: 'urn:dxhub:local:role', code: role }] }],
      });
    });
  }
  return out;
}

/** One analyzer per lab section (the test codes it reports), one modality per imaging section. */
export interface DemoDevice {
  readonly id: string;
  /** ASTM H-5.1 sender name. */
  readonly name: string;
  readonly section: string;
  readonly kind: 'analyzer' | 'modality';
}

/** Analyzers (ASTM senders) and modalities of the region. */
export function demoDevices(): DemoDevice[] {
  const labs = unitsWithRole('lab').map((u) => ({
    id: `dev-${u.code}-chem`,
    name: `CHEM-${u.code.replace(/^demo-/, '').toUpperCase()}`,
    section: u.code,
    kind: 'analyzer' as const,
  }));
  const imaging = unitsWithRole('imaging').map((u) => ({
    id: `dev-${u.code}-mod`,
    name: `MOD-${u.code.replace(/^demo-/, '').toUpperCase()}`,
    section: u.code,
    kind: 'modality' as const,
  }));
  return [...labs, ...imaging];
}

/** Device resources of {@link demoDevices}. */
export function deviceResources(): DemoResource[] {
  return demoDevices().map((d) => ({
    resourceType: 'Device',
    id: d.id,
    identifier: [{ system: DEMO_DEVICE_SYSTEM, value: d.name }],
    status: 'active',
    deviceName: [{ name: `${d.name} (demo)`, type: 'user-friendly-name' }],
    type: {
      text:
        d.kind === 'analyzer'
          ? 'Klinisk kemi-analysator / chemistry analyzer'
          : 'Billeddiagnostisk modalitet / imaging modality',
    },
    owner: { reference: `Organization/${d.section}` },
    ...(d.kind === 'analyzer' ? { note: [{ text: `tests: ${DEMO_ANALYSES.map((a) => a.astmCode).join(' ')}` }] } : {}),
  }));
}

/** Every unit code, for tests and checks. */
export const REGION_CODES: ReadonlySet<string> = new Set(REGION_ORGANISATIONS.map((u) => u.code));
