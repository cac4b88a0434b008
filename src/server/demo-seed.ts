import { DEMO_SERVE_REGION, isRegionSeeded, seedRegion } from '../demo/seed-region.ts';
import { demoUsers } from '../security/demo-users.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';

/**
 * What a demo start needs (`serve --demo`): on first start a small synthetic region (organisation
 * tree, staff, devices, patients with history, current admissions on the demo clinician's ward; see
 * `src/demo/`), then a Practitioner per demo user and the demo citizen as a Patient admitted to the
 * demo clinician's department. Idempotent (fixed ids; unchanged resources are not rewritten).
 * Synthetic: no real SOR codes or CPR numbers.
 */
export async function seedDemo(repo: FhirRepository): Promise<void> {
  if (!(await isRegionSeeded(repo))) await seedRegion(repo, DEMO_SERVE_REGION);
  const resources: Resource[] = [];
  for (const u of demoUsers()) {
    if (u.fhirUser?.startsWith('Practitioner/')) {
      resources.push({ resourceType: 'Practitioner', id: u.id, name: [{ text: u.name }], active: true });
    }
  }
  const citizen = demoUsers().find((u) => u.role === 'citizen');
  const clinician = demoUsers().find((u) => u.role === 'clinician');
  if (citizen?.patient && clinician?.org) {
    resources.push({
      resourceType: 'Patient',
      id: citizen.patient,
      name: [{ family: 'Nielsen', given: ['Anna'], text: citizen.name }],
      gender: 'female',
      birthDate: '1980-01-01',
    });
    resources.push({
      resourceType: 'Encounter',
      id: 'demo-encounter-1',
      status: 'in-progress',
      class: {
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
        code: 'IMP',
        display: 'inpatient encounter',
      },
      subject: { reference: `Patient/${citizen.patient}` },
      serviceProvider: { reference: `Organization/${clinician.org}` },
    });
  }
  await repo.transaction(async (w) => {
    for (const r of resources) await repo.put(w, r);
  });
}
