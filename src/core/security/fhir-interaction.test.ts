import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyFhirRequest, type FhirRequest } from './fhir-interaction.ts';
import { parseScopes, permits } from './smart-scopes.ts';

const at = (resourceType: string, interaction: string): FhirRequest =>
  ({ kind: 'interaction', resourceType, interaction }) as FhirRequest;

test('classifyFhirRequest maps REST request lines to interactions (FHIR R4 http.html)', () => {
  const table: [string, string, FhirRequest][] = [
    ['GET', 'Observation/123', at('Observation', 'read')],
    ['GET', '/Observation/123/', at('Observation', 'read')],
    ['HEAD', 'Observation/123', at('Observation', 'read')],
    ['GET', 'Observation/123/_history/2', at('Observation', 'vread')],
    ['GET', 'Observation/123/_history', at('Observation', 'history-instance')],
    ['GET', 'Observation/_history?_since=2024-01-01', at('Observation', 'history-type')],
    ['GET', '_history', at('*', 'history-system')],
    ['GET', 'Observation?code=http://loinc.org|718-7', at('Observation', 'search-type')],
    ['POST', 'Observation/_search', at('Observation', 'search-type')],
    ['GET', '?_type=Observation', at('*', 'search-system')],
    ['POST', '_search', at('*', 'search-system')],
    ['GET', 'Patient/p1/Observation?code=x', at('Observation', 'search-type')],
    ['GET', 'Patient/p1/*', at('*', 'search-type')],
    ['POST', 'Observation', at('Observation', 'create')],
    ['PUT', 'Observation/123', at('Observation', 'update')],
    ['PUT', 'Observation?identifier=lab|1', at('Observation', 'update')],
    ['PATCH', 'Observation/123', at('Observation', 'patch')],
    ['patch', 'Observation?identifier=lab|1', at('Observation', 'patch')],
    ['DELETE', 'Observation/123', at('Observation', 'delete')],
    ['DELETE', 'Observation?identifier=lab|1', at('Observation', 'delete')],
    ['GET', 'metadata', { kind: 'capabilities' }],
    ['POST', '', { kind: 'bundle' }],
    ['POST', '/', { kind: 'bundle' }],
    ['GET', 'Patient/p1/$everything', { kind: 'operation', name: 'everything', resourceType: 'Patient' }],
    ['POST', 'Observation/$validate', { kind: 'operation', name: 'validate', resourceType: 'Observation' }],
    ['POST', '$reindex', { kind: 'operation', name: 'reindex' }],
  ];
  for (const [method, url, expected] of table) {
    assert.deepEqual(classifyFhirRequest(method, url), expected, `${method} ${url}`);
  }
});

test('classifyFhirRequest refuses what it cannot authorise, naming the request line', () => {
  for (const [method, url] of [
    ['GET', 'observation/1'],
    ['GET', 'Observation/1/_history/2/x'],
    ['GET', 'Observation/not an id'],
    ['GET', 'Observation/_search'],
    ['PUT', 'Observation'],
    ['DELETE', 'Observation'],
    ['DELETE', ''],
    ['PUT', 'Observation/1/_history/2'],
    ['POST', 'Observation/1'],
    ['POST', 'metadata'],
    ['OPTIONS', 'Observation'],
    ['GET', 'Patient/$everything/x'],
  ] as const) {
    const r = classifyFhirRequest(method, url);
    assert.ok('ok' in r && !r.ok, `${method} ${url}`);
    assert.equal(r.code, 'bad-request-line');
    assert.equal(r.scope, `${method} ${url}`);
  }
});

test('batch/transaction entries are authorised one by one from their request method and url', () => {
  const parsed = parseScopes('user/Observation.cru user/Patient.r');
  assert.ok(parsed.ok);
  const entries = [
    ['POST', 'Observation', true],
    ['PUT', 'Observation/1', true],
    ['GET', 'Patient/p1', true],
    ['GET', 'Patient?name=x', false],
    ['DELETE', 'Observation/1', false],
    ['POST', 'DiagnosticReport', false],
  ] as const;
  for (const [method, url, allowed] of entries) {
    const r = classifyFhirRequest(method, url);
    assert.ok('kind' in r && r.kind === 'interaction');
    assert.equal(permits(parsed.scopes, { context: 'user', ...r }), allowed, `${method} ${url}`);
  }
});
