import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { DEMO_ANALYSES } from './demo-clinical-data.ts';
import { seedDemo } from './demo-seed.ts';

for (const dialect of await testDialects()) {
  describe(`demo region's clinical data (${dialect})`, () => {
    let dx: TestApp;
    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect), demo: true });
    });
    after(async () => dx?.close());
    const get = async (url: string, user: Parameters<TestApp['bearer']>[0], headers: Record<string, string> = {}) =>
      dx.app.inject({ url, headers: { authorization: await dx.bearer(user), ...headers } });
    const clinician = {
      user: 'demo-clinician',
      role: 'clinician',
      org: 'demo-ouh-med',
      fhirUser: 'Practitioner/demo-clinician',
    } as const;

    it('seeds two patients with lab results from two hospitals, a CT study, reports, Provenance and open orders', async () => {
      const count = async (q: string) => (await dx.app.inject({ url: `/fhir/${q}&_summary=count` })).json().total;
      assert.equal(await count('Observation?subject=Patient/demo-patient-1'), 21);
      assert.equal(await count('Observation?subject=Patient/demo-patient-2'), 4);
      assert.equal(
        await count('Observation?subject=Patient/demo-patient-1&performer=Organization/demo-sve-kba-rutine'),
        6,
      );
      assert.equal(await count('ImagingStudy?subject=Patient/demo-patient-1'), 1);
      assert.equal(await count('ServiceRequest?subject=Patient/demo-patient-1&status=active,draft'), 2);
      // The critical potassium is flagged HH against the cited limit.
      const hh = (
        await dx.app.inject({
          url: '/fhir/Observation?subject=Patient/demo-patient-1&code=urn:oid:1.2.208.176.2.1|NPU03230',
        })
      ).json();
      const flags = hh.entry.map(
        (e: { resource: { valueQuantity: { value: number }; interpretation: { coding: { code: string }[] }[] } }) => [
          e.resource.valueQuantity.value,
          e.resource.interpretation[0]!.coding[0]!.code,
        ],
      );
      assert.deepEqual(
        flags.filter(([, f]: [number, string]) => f === 'HH'),
        [[6.4, 'HH']],
      );
      assert.ok(DEMO_ANALYSES.k.critical && 6.4 >= DEMO_ANALYSES.k.critical.high);
    });

    it('seeding again changes nothing (fixed ids, same day)', async () => {
      await seedDemo(dx.repo);
      const o = (await dx.app.inject({ url: '/fhir/Observation/obs-demo-patient-1-demo-ouh-kba-akut-7-k' })).json();
      assert.equal(o.meta.versionId, '1');
    });

    it('a clinician of the admitting department reads the results and their Provenance; the other patient only with værdispring', async () => {
      const prov = await get('/fhir/Provenance?target=Observation/obs-demo-patient-1-demo-ouh-kba-akut-7-k', clinician);
      assert.equal(prov.statusCode, 200);
      assert.equal(prov.json().entry[0].resource.agent[0].who.reference, 'Organization/demo-ouh-kba-akut');
      assert.equal((await get('/fhir/Patient/demo-patient-2', clinician)).statusCode, 403);
      const vd = await get('/fhir/Patient/demo-patient-2', clinician, {
        'x-vaerdispring': 'vital-interest; unconscious%20patient',
      });
      assert.equal(vd.statusCode, 200);
    });

    it('the lab sees the patient it has orders for, not the other', async () => {
      const lab = { user: 'demo-lab-technologist', role: 'lab-technologist', org: 'demo-ouh-kba-akut' } as const;
      assert.equal((await get('/fhir/Patient/demo-patient-1', lab)).statusCode, 200);
      assert.equal((await get('/fhir/Patient/demo-patient-2', lab)).statusCode, 403);
    });
  });
}
