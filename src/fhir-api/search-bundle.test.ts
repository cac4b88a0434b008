import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';

for (const dialect of await testDialects()) {
  describe(`search Bundle includes on ${dialect}`, () => {
    let dx: TestApp;
    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
      const put = (url: string, payload: object) =>
        dx.app.inject({ method: 'PUT', url, payload, headers: { 'content-type': 'application/fhir+json' } });
      await put('/fhir/Patient/a', { resourceType: 'Patient', id: 'a' });
      await put('/fhir/Observation/o1', {
        resourceType: 'Observation',
        id: 'o1',
        status: 'final',
        code: { text: 'Hb' },
        subject: { reference: 'Patient/a' },
      });
      await put('/fhir/DiagnosticReport/d1', {
        resourceType: 'DiagnosticReport',
        id: 'd1',
        status: 'final',
        code: { text: 'Blood count' },
        result: [{ reference: 'Observation/o1' }],
      });
    });
    after(async () => dx.close());

    test('_include:iterate follows the included resources one step further', async () => {
      const r = await dx.app.inject({
        method: 'GET',
        url: '/fhir/DiagnosticReport?_include=DiagnosticReport:result&_include:iterate=Observation:subject',
      });
      const entries = (
        r.json().entry as { resource: { resourceType: string; id: string }; search: { mode: string } }[]
      ).map((e) => `${e.resource.resourceType}/${e.resource.id}:${e.search.mode}`);
      assert.deepEqual(entries, ['DiagnosticReport/d1:match', 'Observation/o1:include', 'Patient/a:include']);
      // Without :iterate only the first step is included.
      const plain = await dx.app.inject({
        method: 'GET',
        url: '/fhir/DiagnosticReport?_include=DiagnosticReport:result&_include=Observation:subject',
      });
      assert.equal(plain.statusCode, 400);
    });
  });
}
