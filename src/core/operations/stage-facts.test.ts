import assert from 'node:assert/strict';
import { test } from 'node:test';
import { factsOf } from './stage-facts.ts';

const at = (iso: string) => Date.parse(iso);

test('imaging: requested → scheduled → performed → reported, with the modality', () => {
  const sr = factsOf(
    {
      resourceType: 'ServiceRequest',
      id: 'ct1',
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '363679005' }] }],
      code: { coding: [{ system: 'urn:dxhub:local:examination', code: 'CT-THORAX' }] },
      priority: 'urgent',
      authoredOn: '2026-11-28T08:00:00Z',
      occurrenceDateTime: '2026-11-28T10:00:00Z',
    },
    at('2026-11-28T08:05:00Z'),
  );
  assert.deepEqual(
    sr.map((f) => [
      f.kind,
      f.kind === 'stage' ? f.timeline : '',
      f.kind === 'stage' ? f.stage : '',
      new Date(f.at).toISOString(),
    ]),
    [
      ['stage', 'imaging', 'ordered', '2026-11-28T08:00:00.000Z'],
      ['stage', 'imaging', 'scheduled', '2026-11-28T08:05:00.000Z'],
    ],
  );
  const study = factsOf(
    {
      resourceType: 'ImagingStudy',
      id: 'is1',
      basedOn: [{ reference: 'ServiceRequest/ct1' }],
      started: '2026-11-28T10:12:00Z',
      modality: [{ code: 'CT' }],
    },
    0,
  );
  assert.equal(study[0]?.kind === 'stage' && study[0].stage, 'performed');
  assert.equal(study[0]?.dims.instrument, 'CT');
  const report = factsOf(
    {
      resourceType: 'DiagnosticReport',
      id: 'r1',
      status: 'final',
      category: [{ coding: [{ code: 'RAD' }] }],
      basedOn: [{ reference: 'ServiceRequest/ct1' }],
      issued: '2026-11-28T11:00:00Z',
    },
    0,
  );
  assert.deepEqual(
    report.map((f) => f.kind === 'stage' && [f.timeline, f.stage, f.key]),
    [['imaging', 'reported', 'ServiceRequest/ct1']],
  );
});

test('lab: a preliminary result is "in analysis", a final one "verified" and a result; tags and specimen quality', () => {
  const obs = (status: string) =>
    factsOf(
      {
        resourceType: 'Observation',
        id: 'o1',
        status,
        basedOn: [{ reference: 'ServiceRequest/s1' }],
        issued: '2026-11-28T09:00:00Z',
        meta: { tag: [{ system: 'urn:dxhub:result-processing', code: 'autoverified' }] },
      },
      0,
    ).map((f) => (f.kind === 'stage' ? f.stage : f.kind));
  assert.deepEqual(obs('preliminary'), ['in-analysis', 'verification']);
  assert.deepEqual(obs('final'), ['in-analysis', 'verified', 'result', 'verification']);
  const specimen = factsOf(
    {
      resourceType: 'Specimen',
      id: 'sp',
      status: 'unsatisfactory',
      request: [{ reference: 'ServiceRequest/s1' }],
      condition: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0493', code: 'HEM' }] }],
    },
    0,
  ).map((f) => f.kind);
  assert.deepEqual(specimen, ['specimen', 'rejected', 'haemolysed']);
  // Not a critical value: an ordinary CommunicationRequest yields nothing.
  assert.deepEqual(
    factsOf({ resourceType: 'CommunicationRequest', id: 'c', authoredOn: '2026-11-28T09:00:00Z' }, 0),
    [],
  );
  assert.deepEqual(factsOf({ resourceType: 'Patient', id: 'p' }, 0), []);
});
