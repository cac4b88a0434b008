import { DEMO_ORGANISATIONS, DEMO_SOR_SYSTEM, demoUsers } from '../security/demo-users.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import { demoClinicalResources } from './demo-clinical-seed.ts';

/**
 * The minimum a demo sign-in needs (`serve --demo`): the demo organisation tree, a Practitioner per
 * demo user, the demo citizen as a Patient admitted to the demo clinician's department. Idempotent
 * (fixed ids; unchanged resources are not rewritten). Synthetic: no real SOR codes or CPR numbers.
 */
export async function seedDemo(repo: FhirRepository): Promise<void> {
  const resources: Resource[] = [];
  for (const o of DEMO_ORGANISATIONS) {
    resources.push({
      resourceType: 'Organization',
      id: o.code,
      identifier: [{ system: DEMO_SOR_SYSTEM, value: o.code }],
      name: o.name,
      ...(o.parent ? { partOf: { reference: `Organization/${o.parent}` } } : {}),
    });
  }
  for (const u of demoUsers()) {
    if (u.fhirUser?.startsWith('Practitioner/')) {
      resources.push({ resourceType: 'Practitioner', id: u.id, name: [{ text: u.name }], active: true });
    }
  }
  // The demo patients, their admissions and clinical data (web app's patient overview).
  resources.push(...demoClinicalResources(new Date()));
  await repo.transaction(async (w) => {
    for (const r of resources) await repo.put(w, r);
  });
}
