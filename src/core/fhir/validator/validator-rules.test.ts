import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getValidator, type ValidationIssue } from './index.ts';
import { labObservation } from './lab-observation.fixture.ts';
import { containedServiceRequest, patient, specimen, transactionBundle } from './valid-resources.fixture.ts';

const validator = getValidator();

function summary(issues: ValidationIssue[]): [string, string, string][] {
  return issues.map((i) => [i.severity, i.code, i.expression]);
}

function condition(clinicalStatus: unknown): Record<string, unknown> {
  return { resourceType: 'Condition', clinicalStatus, subject: { reference: 'Patient/p1' } };
}

const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

describe('required terminology bindings', () => {
  test('code: Observation.status, Patient.gender, Bundle.type', () => {
    assert.deepEqual(summary(validator.validate({ ...labObservation(), status: 'done' })), [
      ['error', 'code-invalid', 'Observation.status'],
    ]);
    assert.deepEqual(validator.validate({ ...labObservation(), status: 'final' }), []);
    assert.deepEqual(summary(validator.validate({ ...patient(), gender: 'x' })), [
      ['error', 'code-invalid', 'Patient.gender'],
    ]);
    assert.deepEqual(summary(validator.validate({ resourceType: 'Bundle', type: 'pile' })), [
      ['error', 'code-invalid', 'Bundle.type'],
    ]);
  });

  test('code bindings inside data types (Quantity.comparator, HumanName.use)', () => {
    const obs = labObservation();
    obs.valueQuantity = { value: 5, comparator: '<<' };
    assert.deepEqual(summary(validator.validate(obs)), [
      ['error', 'code-invalid', 'Observation.valueQuantity.comparator'],
    ]);
    const pat = patient();
    pat.name = [
      { use: 'nickname', text: 'Nan' },
      { use: 'alias', text: 'N' },
    ];
    assert.deepEqual(summary(validator.validate(pat)), [['error', 'code-invalid', 'Patient.name[1].use']]);
  });

  test('CodeableConcept: at least one coding from the value set, when codings are present', () => {
    assert.deepEqual(validator.validate(condition({ coding: [{ system: CLINICAL, code: 'active' }] })), []);
    assert.deepEqual(validator.validate(condition({ text: 'active, by text only' })), []);
    const mixed = condition({
      coding: [
        { system: 'http://example.org/local', code: 'A' },
        { system: CLINICAL, code: 'remission' },
      ],
    });
    assert.deepEqual(validator.validate(mixed), []);
    assert.deepEqual(summary(validator.validate(condition({ coding: [{ system: CLINICAL, code: 'bogus' }] }))), [
      ['error', 'code-invalid', 'Condition.clinicalStatus'],
    ]);
    // Right code, wrong system.
    assert.deepEqual(
      summary(validator.validate(condition({ coding: [{ system: 'http://example.org', code: 'active' }] }))),
      [['error', 'code-invalid', 'Condition.clinicalStatus']],
    );
  });

  test('value sets that cannot be expanded locally are not checked', () => {
    // Attachment.contentType is bound (required) to BCP-13 MIME types, an external code system.
    const report = { resourceType: 'Binary', contentType: 'application/x-dxhub-private' };
    assert.deepEqual(validator.validate(report), []);
  });
});

describe('invariants evaluated by hand', () => {
  test('obs-6: dataAbsentReason only when there is no value', () => {
    const obs = labObservation();
    obs.dataAbsentReason = { text: 'lost' };
    const issues = validator.validate(obs);
    assert.deepEqual(summary(issues), [['error', 'invalid', 'Observation']]);
    assert.match(issues[0]?.diagnostics ?? '', /^obs-6:/);
    delete obs.valueQuantity;
    assert.deepEqual(validator.validate(obs), []);
  });

  test('ext-1: an extension has a value or nested extensions, not both, not neither', () => {
    const both = { url: 'http://example.org/x', valueString: 'a', extension: [{ url: 'y', valueBoolean: true }] };
    const neither = { url: 'http://example.org/x' };
    assert.deepEqual(summary(validator.validate({ ...patient(), extension: [neither, both] })), [
      ['error', 'invalid', 'Patient.extension[0]'],
      ['error', 'invalid', 'Patient.extension[1]'],
    ]);
  });

  test('qty-3: a unit code needs a system', () => {
    const obs = labObservation();
    obs.valueQuantity = { value: 5.4, code: 'mmol/L' };
    assert.deepEqual(summary(validator.validate(obs)), [['error', 'invalid', 'Observation.valueQuantity']]);
  });

  test('bdl-3: transaction entries need a request', () => {
    const bundle = transactionBundle();
    bundle.entry = [{ resource: specimen() }];
    assert.deepEqual(summary(validator.validate(bundle)), [['error', 'invalid', 'Bundle']]);
  });

  test('dom-2: contained resources do not nest', () => {
    const request = containedServiceRequest();
    const contained = request.contained as Record<string, unknown>[];
    contained[1] = { ...contained[1], contained: [{ resourceType: 'Patient' }] };
    assert.deepEqual(summary(validator.validate(request)), [['error', 'invalid', 'ServiceRequest.contained[1]']]);
  });
});

describe('nested resources', () => {
  test('errors inside Bundle entries carry the entry path', () => {
    const bundle = transactionBundle();
    const entries = bundle.entry as Record<string, unknown>[];
    entries[2] = { ...entries[2], resource: { ...labObservation(), status: 'done' } };
    assert.deepEqual(summary(validator.validate(bundle)), [
      ['error', 'code-invalid', 'Bundle.entry[2].resource.status'],
    ]);
  });

  test('contained resources, Parameters resources and Questionnaire items are walked', () => {
    const request = containedServiceRequest();
    (request.contained as Record<string, unknown>[])[0] = { resourceType: 'Patient', id: 'pat', foo: 1 };
    assert.deepEqual(summary(validator.validate(request)), [['error', 'structure', 'ServiceRequest.contained[0].foo']]);

    const parameters = { resourceType: 'Parameters', parameter: [{ name: 'p', resource: { resourceType: 'Nope' } }] };
    assert.deepEqual(summary(validator.validate(parameters)), [
      ['error', 'not-supported', 'Parameters.parameter[0].resource.resourceType'],
    ]);

    const questionnaire = {
      resourceType: 'Questionnaire',
      status: 'draft',
      item: [
        {
          linkId: 'a',
          type: 'group',
          item: [
            { linkId: 'b', type: 'string' },
            { linkId: 'c', type: 'essay' },
          ],
        },
      ],
    };
    assert.deepEqual(summary(validator.validate(questionnaire)), [
      ['error', 'code-invalid', 'Questionnaire.item[0].item[1].type'],
    ]);
  });

  test('Bundle.entry.link (contentReference) is checked like Bundle.link', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ link: [{ relation: 'self' }], resource: patient() }],
    };
    assert.deepEqual(summary(validator.validate(bundle)), [['error', 'required', 'Bundle.entry[0].link[0].url']]);
  });
});

describe('robustness', () => {
  test('cyclic JavaScript objects are reported, not overflowed', () => {
    const cyclic: Record<string, unknown> = { resourceType: 'Patient' };
    cyclic.contained = [cyclic];
    const issues = validator.validate(cyclic);
    assert.ok(issues.some((i) => i.code === 'invalid' && i.diagnostics.includes('nesting deeper')));
  });

  test('a throwing getter yields an issue, not an exception', () => {
    const hostile = {
      resourceType: 'Patient',
      get active(): boolean {
        throw new Error('boom');
      },
    };
    assert.deepEqual(summary(validator.validate(hostile)), [['error', 'invalid', 'Patient']]);
  });

  test('control characters in strings are a warning', () => {
    const issues = validator.validate({ ...patient(), name: [{ text: 'Nancy\u0007' }] });
    assert.deepEqual(summary(issues), [['warning', 'value', 'Patient.name[0].text']]);
  });

  test('Resource.id follows the id type', () => {
    assert.deepEqual(summary(validator.validate({ ...patient(), id: 'has_underscore' })), [
      ['error', 'value', 'Patient.id'],
    ]);
    assert.deepEqual(validator.validate({ ...patient(), id: 'A-1.b' }), []);
  });
});
