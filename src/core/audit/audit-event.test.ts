import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getValidator } from '../fhir/validator/index.ts';
import type { AuditEntry } from './audit-entry.ts';
import { buildAuditEvent } from './audit-event.ts';
import { canonicalJson } from './canonical-json.ts';

const AT = Date.UTC(2026, 10, 29, 9, 30, 0);
const SOURCE = { observer: 'dxhub@test', address: 'https://dxhub.example/fhir' };
const base: AuditEntry = {
  action: 'read',
  agent: 'user-42',
  agentName: 'Dr. Hansen',
  organisation: '123456789012345',
  role: 'doctor',
  purpose: 'TREAT',
  sourceIp: '10.0.0.7',
  client: 'epj-app',
  patient: 'pat-1',
  resource: 'Observation/obs-1',
  requestId: 'req-9',
};
// biome-ignore lint/suspicious/noExplicitAny: test reads nested JSON freely
const build = (patch: Partial<AuditEntry> = {}): any => buildAuditEvent({ ...base, ...patch }, AT, SOURCE);
// biome-ignore lint/suspicious/noExplicitAny: as above
const agentOfType = (ev: any, code: string) => ev.agent.find((a: any) => a.type?.coding?.[0]?.code === code);
// biome-ignore lint/suspicious/noExplicitAny: as above
const entityOfRole = (ev: any, code: string) => ev.entity.find((e: any) => e.role?.code === code);

test('every action builds a valid FHIR R4 AuditEvent', () => {
  for (const action of [
    'read',
    'vread',
    'search',
    'create',
    'update',
    'patch',
    'delete',
    'login',
    'logout',
    'denied',
    'break-glass',
  ] as const) {
    const ev = build({
      action,
      ...(action === 'search' ? { resource: undefined, query: 'Observation?patient=pat-1' } : {}),
    });
    assert.deepEqual(getValidator().validate(ev), [], action);
  }
});

test('events are built in canonical member order (canonicalJson then copies nothing)', () => {
  for (const action of ['read', 'search', 'create', 'denied', 'break-glass', 'login'] as const) {
    const ev = build({ action, query: action === 'search' ? 'Observation?code=x' : undefined, detail: 'why' });
    assert.equal(JSON.stringify(ev), canonicalJson(ev), action);
  }
});

test('a read with a patient follows BALP PatientRead', () => {
  const ev = build();
  assert.deepEqual(ev.type, { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' });
  assert.deepEqual(ev.subtype, [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' }]);
  assert.equal(ev.action, 'R');
  assert.equal(ev.outcome, '0');
  assert.equal(ev.recorded, '2026-11-29T09:30:00.000Z');
  // BALP Read: the client is the Destination Role ID (110152), the server the Source Role ID (110153).
  assert.deepEqual(agentOfType(ev, '110152').network, { address: '10.0.0.7', type: '2' });
  assert.deepEqual(agentOfType(ev, '110153').who, { display: 'dxhub@test' });
  const user = agentOfType(ev, 'IRCP');
  assert.equal(user.requestor, true);
  assert.deepEqual(user.who, { identifier: { value: 'user-42' } });
  assert.deepEqual(user.purposeOfUse, [
    { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] },
  ]);
  assert.deepEqual(agentOfType(ev, 'PROV').who, {
    identifier: { system: 'urn:oid:1.2.208.176.1.1', value: '123456789012345' },
  });
  assert.deepEqual(entityOfRole(ev, '1').what, { reference: 'Patient/pat-1' });
  assert.deepEqual(entityOfRole(ev, '4').what, { reference: 'Observation/obs-1' });
  assert.equal(ev.entity.at(-1).what.identifier.value, 'req-9');
});

test('a search follows BALP PatientQuery: query base64-encoded, CPR masked first', () => {
  const ev = build({
    action: 'search',
    resource: undefined,
    query: 'Patient?identifier=urn:oid:1.2.208.176.1.2|0101001234',
  });
  assert.equal(ev.action, 'E');
  assert.equal(ev.subtype[0].code, 'search-type');
  assert.equal(agentOfType(ev, '110153').who.identifier.value, 'epj-app'); // client = Source Role ID
  const query = entityOfRole(ev, '24');
  assert.equal(query.description, 'Patient?identifier=urn:oid:1.2.208.176.1.2|010100-XXXX');
  assert.equal(Buffer.from(query.query, 'base64').toString('utf8'), query.description);
  assert.equal(build({ action: 'search', resource: undefined, query: '?_id=x' }).subtype[0].code, 'search-system');
});

test('writes follow BALP Create/Update/Delete: action code and the user as author', () => {
  for (const [action, code] of [
    ['create', 'C'],
    ['update', 'U'],
    ['patch', 'U'],
    ['delete', 'D'],
  ] as const) {
    const ev = build({ action });
    assert.equal(ev.action, code);
    assert.equal(ev.subtype[0].code, action);
    assert.equal(agentOfType(ev, 'AUT').requestor, true);
    assert.ok(agentOfType(ev, '110153').network, 'client is the Source Role ID');
  }
});

test('break-glass: Security Alert / Emergency Override Started, ETREAT, reason masked', () => {
  const ev = build({ action: 'break-glass', purpose: undefined, detail: 'unconscious, CPR 010203-1234 per ambulance' });
  assert.deepEqual(ev.type.code, '110113');
  assert.deepEqual(ev.subtype[0].code, '110127');
  assert.equal(ev.purposeOfEvent[0].coding[0].code, 'ETREAT');
  assert.equal(ev.outcomeDesc, 'unconscious, CPR 010203-XXXX per ambulance');
});

test('denied: authorization decision with failure outcome; login with DICOM codes', () => {
  const denied = build({ action: 'denied', outcome: 'serious-failure', detail: 'no treatment relation' });
  assert.equal(denied.outcome, '8');
  assert.equal(denied.subtype[0].code, 'AuthZ-Consent');
  const login = build({ action: 'login', patient: undefined, resource: undefined });
  assert.equal(login.subtype[0].code, '110122');
  assert.deepEqual(login.entity.length, 1);
});

test('no CPR number survives anywhere in the event text', () => {
  const cpr = '0101001234';
  const text = JSON.stringify(
    build({ agentName: `Jens ${cpr}`, detail: `asked about ${cpr}`, role: `role ${cpr}`, purpose: `for 010100-1234` }),
  );
  assert.equal(text.includes(cpr) || text.includes('010100-1234'), false);
  assert.ok(text.includes('010100-XXXX'));
});
