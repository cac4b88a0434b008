import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import { demoUsers } from '../security/demo-users.ts';
import { DEMO_SERVE_REGION, patientBatch } from './seed-region.ts';

for (const dialect of await testDialects()) {
  describe(`the demo region and the demo sign-in users (${dialect})`, () => {
    it("the demo clinician sees the patients admitted to her ward and nobody else's; every demo user's unit is in the region", async () => {
      const dx = await buildTestApp({ demo: true }, { repo: await freshRepo(dialect) });
      try {
        const clinician = demoUsers().find((u) => u.role === 'clinician')!;
        assert.equal(clinician.org, DEMO_SERVE_REGION.admitNow.ward);
        const auth = await dx.bearer({
          user: clinician.id,
          role: 'clinician',
          org: clinician.org,
          fhirUser: clinician.fhirUser,
        });
        const get = async (url: string) => dx.rawInject({ method: 'GET', url, headers: { authorization: auth } });
        // Patient dp-0 is admitted now to the clinician's ward (DEMO_SERVE_REGION.admitNow).
        assert.equal((await get('/fhir/Patient/dp-0')).statusCode, 200);
        const labs = await get('/fhir/Observation?subject=Patient/dp-0&_count=5');
        assert.equal(labs.statusCode, 200);
        // A patient whose generated record never mentions the ward has no treatment relation with it.
        const stranger = [...Array(DEMO_SERVE_REGION.patients).keys()].find(
          (i) =>
            !JSON.stringify(patientBatch({ ...DEMO_SERVE_REGION, asOf: Date.now() }, i, i + 1).resources).includes(
              `Organization/${clinician.org}`,
            ),
        );
        assert.ok(stranger !== undefined);
        assert.equal((await get(`/fhir/Patient/dp-${stranger}`)).statusCode, 403);
        for (const u of demoUsers()) {
          if (u.org)
            assert.equal(
              (await dx.app.inject({ method: 'GET', url: `/fhir/Organization/${u.org}` })).statusCode,
              200,
              u.org,
            );
        }
      } finally {
        await dx.close();
      }
    });
  });
}
