import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { CPR_SYSTEM, patient } from '../../test/support/factories.ts';

for (const dialect of await testDialects()) {
  describe(`one Patient per CPR on ${dialect}`, () => {
    let dx: TestApp;
    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
    });
    after(async () => dx.close());
    const post = (body: unknown) =>
      dx.app.inject({
        method: 'POST',
        url: '/fhir/Patient',
        payload: body as object,
        headers: { 'content-type': 'application/fhir+json' },
      });
    const count = async (cpr: string) =>
      (
        await dx.app.inject({ method: 'GET', url: `/fhir/Patient?identifier=${CPR_SYSTEM}|${cpr}&_summary=count` })
      ).json().total as number;

    test('ten concurrent creates with one new CPR make one Patient; the others get 409 naming it', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          post({ ...patient(), identifier: [{ system: CPR_SYSTEM, value: '241260-1234' }] }),
        ),
      );
      const codes = results.map((r) => r.statusCode).sort();
      assert.deepEqual(codes, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
      const refused = results.find((r) => r.statusCode === 409)!.json();
      assert.equal(refused.resourceType, 'OperationOutcome');
      assert.match(refused.issue[0].diagnostics, /already has identifier urn:oid:1\.2\.208\.176\.1\.2\|2412601234/);
      assert.equal(await count('2412601234'), 1);
    });

    test('the hyphen does not make a second person; a deleted record frees its CPR', async () => {
      const first = await post({ ...patient(), identifier: [{ system: CPR_SYSTEM, value: '0503771234' }] });
      assert.equal(first.statusCode, 201);
      assert.equal(
        (await post({ ...patient(), identifier: [{ system: CPR_SYSTEM, value: '050377-1234' }] })).statusCode,
        409,
      );
      await dx.app.inject({ method: 'DELETE', url: `/fhir/Patient/${first.json().id}` });
      assert.equal(
        (await post({ ...patient(), identifier: [{ system: CPR_SYSTEM, value: '050377-1234' }] })).statusCode,
        201,
      );
    });

    test('If-None-Exist on the CPR returns the existing record instead of failing', async () => {
      const body = { ...patient(), identifier: [{ system: CPR_SYSTEM, value: '1111111118' }] };
      const rs = await Promise.all(
        Array.from({ length: 6 }, () =>
          dx.app.inject({
            method: 'POST',
            url: '/fhir/Patient',
            payload: body,
            headers: {
              'content-type': 'application/fhir+json',
              'if-none-exist': `identifier=${CPR_SYSTEM}|1111111118`,
            },
          }),
        ),
      );
      assert.deepEqual(rs.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(rs.map((r) => r.json().id)).size, 1);
    });
  });
}
