import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, ConceptMap, Observation, ServiceRequest } from '@medplum/fhirtypes';
import { LOINC_SYSTEM, NPU_SYSTEM, UCUM_SYSTEM } from '../hl7/v2-to-fhir/index.ts';
import {
  applyConceptMaps,
  ConceptMapIndex,
  convertUcum,
  MAPPED_BY_EXTENSION,
  ORIGINAL_QUANTITY_EXTENSION,
  significantDigits,
  TARGET_UNIT_PROPERTY,
} from './index.ts';

// A fictitious Danish sender; its local codes are test data.
const LOCAL = 'urn:dxhub:local:LABKA:TESTLAB';
// Not a real code system: pairs into it are clearly test data.
const FICTIVE = 'urn:dxhub:test:fictitious-target';
const unit = (value: string) => [{ property: TARGET_UNIT_PROPERTY, system: UCUM_SYSTEM, value }];

const map: ConceptMap = {
  resourceType: 'ConceptMap',
  id: 'labka',
  url: 'http://region.example/fhir/ConceptMap/labka',
  version: '3',
  status: 'active',
  group: [
    {
      source: LOCAL,
      // NPU's OID, as MedCom writes it: must become http://npu-terminology.org (identity note §3.1).
      target: 'urn:oid:1.2.208.176.2.1',
      element: [
        // NPU19748 "P—C-reaktivt protein; massek.", mg/L: identity-and-terminology.md §3.2 table.
        { code: 'CRP', target: [{ code: 'NPU19748', equivalence: 'equivalent', product: unit('mg/L') }] },
        // NPU02319 "B—Hæmoglobin(Fe); stofk.", mmol/L: identity-and-terminology.md §3.2 table.
        { code: 'HB', target: [{ code: 'NPU02319', equivalence: 'equivalent', product: unit('mmol/L') }] },
      ],
    },
    {
      source: LOCAL,
      target: FICTIVE,
      element: [
        { code: 'NARROW', target: [{ code: 'T-1', equivalence: 'narrower' }] },
        { code: 'WIDE', target: [{ code: 'T-2', equivalence: 'wider' }] },
        { code: 'NONE', target: [{ equivalence: 'unmatched' }] },
        {
          code: 'COND',
          target: [{ code: 'T-3', equivalence: 'equivalent', dependsOn: [{ property: 'x', value: 'y' }] }],
        },
      ],
    },
  ],
};

const retired: ConceptMap = {
  resourceType: 'ConceptMap',
  id: 'old',
  status: 'retired',
  group: [
    { source: LOCAL, target: FICTIVE, element: [{ code: 'OLD', target: [{ code: 'T-9', equivalence: 'equal' }] }] },
  ],
};

function observation(code: string, value?: { value: number; unit?: string; code?: string }): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: LOCAL, code, display: `local ${code}` }] },
    ...(value
      ? {
          valueQuantity: {
            value: value.value,
            unit: value.unit ?? value.code,
            ...(value.code ? { system: UCUM_SYSTEM, code: value.code } : {}),
          },
          referenceRange: value.code
            ? [
                {
                  low: { value: 0, system: UCUM_SYSTEM, code: value.code },
                  high: { value: 1, system: UCUM_SYSTEM, code: value.code },
                },
              ]
            : [],
        }
      : {}),
  };
}

const bundleOf = (...resources: (Observation | ServiceRequest)[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: resources.map((resource, i) => ({ fullUrl: `urn:uuid:00000000-0000-5000-8000-00000000000${i}`, resource })),
});

describe('ConceptMapIndex', () => {
  const index = ConceptMapIndex.from([map, retired]);

  it('normalises the NPU OID and reads the target unit from product', () => {
    assert.deepEqual(index.lookup(LOCAL, 'CRP')?.targets, [
      {
        system: NPU_SYSTEM,
        code: 'NPU19748',
        equivalence: 'equivalent',
        unit: 'mg/L',
        conceptMap: 'http://region.example/fhir/ConceptMap/labka|3',
      },
    ]);
  });

  it('applies wider targets; narrower, unmatched and dependsOn targets count as reviewed but add nothing', () => {
    assert.equal(index.lookup(LOCAL, 'WIDE')?.targets[0]?.code, 'T-2');
    for (const code of ['NARROW', 'NONE', 'COND']) assert.deepEqual(index.lookup(LOCAL, code)?.targets, [], code);
  });

  it('ignores retired maps and unknown codes', () => {
    assert.equal(index.lookup(LOCAL, 'OLD'), undefined);
    assert.equal(index.lookup(LOCAL, 'XYZ'), undefined);
    assert.equal(index.size, 1);
  });
});

describe('applyConceptMaps', () => {
  const index = ConceptMapIndex.from([map]);

  it('adds the target after the local coding and converts the quantities to the target unit', () => {
    const input = bundleOf(observation('CRP', { value: 0.5, code: 'mg/dL' }));
    const r = applyConceptMaps(input, index);
    const o = r.bundle.entry?.[0]?.resource as Observation;
    assert.deepEqual(
      o.code.coding?.map((c) => [c.system, c.code]),
      [
        [LOCAL, 'CRP'],
        [NPU_SYSTEM, 'NPU19748'],
      ],
    );
    assert.equal(o.code.coding?.[1]?.extension?.[0]?.url, MAPPED_BY_EXTENSION);
    // 0.5 mg/dL = 5 mg/L (1 dL = 0.1 L).
    assert.equal(o.valueQuantity?.value, 5);
    assert.equal(o.valueQuantity?.code, 'mg/L');
    assert.deepEqual(o.valueQuantity?.extension, [
      {
        url: ORIGINAL_QUANTITY_EXTENSION,
        valueQuantity: { value: 0.5, unit: 'mg/dL', system: UCUM_SYSTEM, code: 'mg/dL' },
      },
    ]);
    assert.deepEqual([o.referenceRange?.[0]?.low?.value, o.referenceRange?.[0]?.high?.value], [0, 10]);
    assert.equal(r.codingsAdded, 1);
    assert.equal(r.quantitiesConverted, 3);
    assert.deepEqual(r.conceptMaps, ['http://region.example/fhir/ConceptMap/labka|3']);
    assert.deepEqual(r.unmapped, []);
    // The input is not changed.
    assert.equal((input.entry![0]!.resource as Observation).code.coding?.length, 1);
  });

  it('keeps the original unit when it cannot be converted (mass to substance concentration), with a warning', () => {
    const r = applyConceptMaps(bundleOf(observation('HB', { value: 13.2, code: 'g/dL' })), index);
    const o = r.bundle.entry?.[0]?.resource as Observation;
    assert.equal(o.code.coding?.[1]?.code, 'NPU02319');
    assert.deepEqual([o.valueQuantity?.value, o.valueQuantity?.code], [13.2, 'g/dL']);
    assert.equal(o.valueQuantity?.extension, undefined);
    assert.match(r.warnings.join('\n'), /original unit.*g\/dL → mmol\/L/);
  });

  it('keeps a non-UCUM unit as it was', () => {
    const r = applyConceptMaps(bundleOf(observation('CRP', { value: 5, unit: 'mg pr. liter' })), index);
    const o = r.bundle.entry?.[0]?.resource as Observation;
    assert.deepEqual([o.valueQuantity?.value, o.valueQuantity?.unit], [5, 'mg pr. liter']);
    assert.match(r.warnings[0] ?? '', /not a UCUM code/);
  });

  it('lists each unmapped local code once, with the first resource that has it', () => {
    const order: ServiceRequest = {
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      subject: { reference: 'Patient/x' },
      code: { coding: [{ system: LOCAL, code: 'XYZ' }] },
    };
    const r = applyConceptMaps(bundleOf(observation('XYZ'), order, observation('NONE'), observation('ABC')), index);
    assert.deepEqual(
      r.unmapped.map((u) => [u.code, u.resourceType, u.fullUrl.slice(-1)]),
      [
        ['XYZ', 'Observation', '0'],
        ['ABC', 'Observation', '3'],
      ],
    );
  });

  it('leaves public codings alone', () => {
    const o: Observation = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC_SYSTEM, code: '718-7' }] },
    };
    const r = applyConceptMaps(bundleOf(o), index);
    assert.deepEqual(r.bundle, bundleOf(o));
    assert.deepEqual(r.unmapped, []);
  });
});

describe('convertUcum', () => {
  it('converts commensurable units and keeps the significant digits', () => {
    // Fixture oru-r01-ms-05: 4.41 10*6/uL; 1 uL = 10^-6 L, so 4.41 10*12/L.
    assert.deepEqual(convertUcum(4.41, '10*6/uL', '10*12/L'), { ok: true, value: 4.41 });
    // Fixture oru-r01-ms-02: glucose 182 mg/dl = 1.82 g/L.
    assert.deepEqual(convertUcum(182, 'mg/dl', 'g/L'), { ok: true, value: 1.82 });
    // UCUM special unit: 37 Cel = 98.6 [degF] (9/5 · 37 + 32).
    assert.deepEqual(convertUcum(37, 'Cel', '[degF]'), { ok: true, value: 98.6 });
  });

  it('refuses what needs more than units', () => {
    assert.equal(convertUcum(182, 'mg/dL', 'mmol/L').ok, false);
    assert.equal(convertUcum(7, 'giga.l-1', '10*9/L').ok, false);
    assert.equal(convertUcum(1, 'g', 'm').ok, false);
  });

  it('counts significant digits as written', () => {
    assert.deepEqual([0.05, 4.41, 100, 0, 1.5e-7].map(significantDigits), [1, 3, 3, 1, 2]);
  });
});
