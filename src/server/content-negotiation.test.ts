import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';

test('FHIR JSON only: XML-only clients get 406 with an OperationOutcome; JSON and */* are served', async () => {
  const dx = await buildTestApp({ db: 'sqlite::memory:' });
  try {
    const get = (url: string, accept?: string) =>
      dx.app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });
    const xml = await get('/fhir/metadata', 'application/fhir+xml');
    assert.equal(xml.statusCode, 406);
    assert.equal(xml.json().resourceType, 'OperationOutcome');
    assert.equal((await get('/fhir/metadata?_format=xml')).statusCode, 406);
    assert.equal((await get('/fhir/metadata', 'application/fhir+json')).statusCode, 200);
    assert.equal((await get('/fhir/metadata', 'text/html,application/xhtml+xml,*/*;q=0.8')).statusCode, 200);
    assert.equal((await get('/fhir/metadata?_format=json')).statusCode, 200);
    assert.equal((await get('/fhir/Patient?_format=application/fhir%2Bjson')).statusCode, 200);
    assert.equal((await get('/healthz', 'text/plain')).statusCode, 200);
  } finally {
    await dx.close();
  }
});
