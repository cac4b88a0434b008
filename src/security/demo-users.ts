import { DEMO_SOR_SYSTEM, type DemoOrganisation, REGION_ORGANISATIONS } from '../core/demo/region-catalogue.ts';
import type { RoleKind } from '../core/security/roles.ts';

export { DEMO_SOR_SYSTEM, type DemoOrganisation };

/** Region → hospitals → departments → sections (SOR levels, research note §5.4): the demo region's tree. */
export const DEMO_ORGANISATIONS: readonly DemoOrganisation[] = REGION_ORGANISATIONS;

const PARENT = new Map(DEMO_ORGANISATIONS.map((o) => [o.code, o.parent]));

/** Parent of a demo unit, for `isWithin`; `undefined` at the root or for unknown codes. */
export function demoParentOf(code: string): string | undefined {
  return PARENT.get(code);
}

/** A demo login: becomes the token's `sub`, `role`, `org`, `fhirUser` and `patient`. */
export interface DemoUser {
  readonly id: string;
  readonly name: string;
  readonly role: RoleKind;
  readonly org?: string;
  readonly fhirUser?: string;
  readonly patient?: string;
}

const BASE: readonly DemoUser[] = [
  { id: 'demo-clinician', name: 'Karen Clausen (demo)', role: 'clinician', org: 'demo-ouh-med' },
  { id: 'demo-lab-technologist', name: 'Lars Thomsen (demo)', role: 'lab-technologist', org: 'demo-ouh-kba-akut' },
  { id: 'demo-lab-physician', name: 'Mette Kjær (demo)', role: 'lab-physician', org: 'demo-ouh-kba' },
  { id: 'demo-radiographer', name: 'Jonas Rask (demo)', role: 'radiographer', org: 'demo-ouh-rad-ct' },
  { id: 'demo-radiologist', name: 'Sofie Holm (demo)', role: 'radiologist', org: 'demo-ouh-rad' },
  { id: 'demo-department-manager', name: 'Peter Munk (demo)', role: 'department-manager', org: 'demo-sve-kba' },
  { id: 'demo-integration', name: 'LIMS interface (demo)', role: 'integration', org: 'demo-ouh-kba' },
  { id: 'demo-researcher', name: 'Ida Bach (demo)', role: 'researcher', org: 'demo-rsd' },
  { id: 'demo-admin', name: 'Admin (demo)', role: 'admin', org: 'demo-rsd' },
  // The patient id is synthetic; the demo data set is expected to contain Patient/demo-patient-1.
  { id: 'demo-citizen', name: 'Anna Nielsen (demo)', role: 'citizen', patient: 'demo-patient-1' },
];

const USERS: readonly DemoUser[] = BASE.map((u) => {
  // SMART fhirUser: the user's own FHIR resource; a system account has none.
  const fhirUser =
    u.role === 'citizen' ? `Patient/${u.patient}` : u.role === 'integration' ? undefined : `Practitioner/${u.id}`;
  return Object.freeze(fhirUser ? { ...u, fhirUser } : u);
});
Object.freeze(USERS);

/** One demo user per role, in the role table's order. */
export function demoUsers(): readonly DemoUser[] {
  return USERS;
}
