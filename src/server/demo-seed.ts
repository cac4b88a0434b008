import { DEMO_SERVE_REGION, isRegionSeeded, seedRegion } from '../demo/seed-region.ts';
import { demoUsers } from '../security/demo-users.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import { demoClinicalResources } from './demo-clinical-seed.ts';

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
  // The demo patients, their admissions and clinical data (web app's patient overview).
  resources.push(...demoClinicalResources(new Date()));
  await repo.transaction(async (w) => {
    for (const r of resources) await repo.put(w, r);
  });
}
