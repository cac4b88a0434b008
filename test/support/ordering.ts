import { NPU_SYSTEM } from '../../src/core/hl7/v2-to-fhir/index.ts';
import { REQUESTER_ORG_EXTENSION } from '../../src/ordering/patient-context.ts';
import type { TestApp } from './app.ts';
import { patient } from './factories.ts';

const HOUR = 3_600_000;
/** NPU codes as MedCom writes the system (the OID): dxhub must find them under both URIs. */
const NPU_OID = 'urn:oid:1.2.208.176.2.1';

async function create(dx: TestApp, resource: Record<string, unknown>): Promise<string> {
  const r = await dx.app.inject({ method: 'POST', url: `/fhir/${resource.resourceType}`, payload: resource });
  if (r.statusCode !== 201) throw new Error(`seed ${String(resource.resourceType)}: ${r.statusCode} ${r.body}`);
  return r.json().id as string;
}

export function labResult(
  patientId: string,
  system: string,
  code: string,
  hoursAgo: number,
  value: number,
  unit: string,
) {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system, code }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: new Date(Date.now() - hoursAgo * HOUR).toISOString(),
    valueQuantity: { value, unit },
  };
}

/**
 * A patient (born 1960) with known type 2 diabetes (SKS DE11), a CRP 12 h old, an eGFR of 25 two
 * days old, an HbA1c 30 days old, and an open TSH order from another organisation.
 */
export async function seedOrderingPatient(dx: TestApp): Promise<{ patientId: string; tshOrder: string }> {
  const patientId = await create(dx, patient({ birthDate: '1960-05-01' }));
  await create(dx, labResult(patientId, NPU_OID, 'NPU19748', 12, 40, 'mg/L'));
  await create(dx, labResult(patientId, NPU_SYSTEM, 'DNK35302', 48, 25, 'mL/min'));
  await create(dx, labResult(patientId, NPU_SYSTEM, 'NPU27300', 30 * 24, 55, 'mmol/mol'));
  await create(dx, {
    resourceType: 'Condition',
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    code: { coding: [{ system: 'urn:oid:1.2.208.176.2.4', code: 'DE11' }] },
    subject: { reference: `Patient/${patientId}` },
  });
  const tshOrder = await create(dx, {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    code: { coding: [{ system: NPU_SYSTEM, code: 'NPU03577' }] },
    subject: { reference: `Patient/${patientId}` },
    authoredOn: new Date(Date.now() - 2 * HOUR).toISOString(),
    extension: [
      { url: REQUESTER_ORG_EXTENSION, valueIdentifier: { system: 'urn:oid:1.2.208.176.1.1', value: '999999999999' } },
    ],
  });
  // The ordering ward (SOR 111111111111) treats the patient now: its users have the relation (§ 42 a).
  const ward = await create(dx, {
    resourceType: 'Organization',
    identifier: [{ system: 'urn:oid:1.2.208.176.1.1', value: TREATING_ORG }],
    name: 'Medicinsk afdeling',
  });
  await create(dx, {
    resourceType: 'Encounter',
    status: 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: { reference: `Patient/${patientId}` },
    serviceProvider: { reference: `Organization/${ward}` },
  });
  return { patientId, tshOrder };
}

/** The SOR code of the organisation treating the seeded ordering patient. */
export const TREATING_ORG = '111111111111';
