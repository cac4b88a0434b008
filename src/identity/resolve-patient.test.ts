import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { CPR_SYSTEM } from '../../test/support/factories.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { EmbeddedEcprRegister } from './embedded-ecpr-register.ts';
import { resolveInboundPatient } from './resolve-patient.ts';
import { uniquePatientIdentifiers } from './unique-identifiers.ts';

const clock = { now: () => Date.UTC(2026, 10, 29, 9, 30) };

for (const dialect of await testDialects()) {
  describe(`resolving inbound patients on ${dialect}`, () => {
    let repo: FhirRepository;
    let register: EmbeddedEcprRegister;
    before(async () => {
      repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)), clock, {
        uniqueIdentifiers: uniquePatientIdentifiers('syddanmark'),
      });
      register = new EmbeddedEcprRegister(repo.db, { region: 'syddanmark', clock });
      await repo.transaction((w) =>
        repo.put(w, {
          resourceType: 'Patient',
          id: 'known',
          identifier: [{ system: CPR_SYSTEM, value: '1203551234' }],
          name: [{ family: 'Østergaard', given: ['Birthe'] }],
          gender: 'female',
          birthDate: '1955-03-12',
        }),
      );
    });
    after(async () => repo.close());

    const person = (over: Partial<Resource> = {}): Resource => ({
      resourceType: 'Patient',
      name: [{ family: 'Østergaard', given: ['Birthe'] }],
      gender: 'female',
      birthDate: '1955-03-12',
      ...over,
    });

    test('a known CPR (with hyphen) resolves to the existing record', async () => {
      const r = await resolveInboundPatient(
        repo,
        register,
        person({ identifier: [{ system: CPR_SYSTEM, value: '120355-1234' }] }),
      );
      assert.deepEqual(r, { kind: 'known', patientId: 'known' });
    });

    test('no identifier but the same name, birth date and sex: a new D-eCPR record and a review task', async () => {
      const r = await resolveInboundPatient(repo, register, person());
      assert.equal(r.kind, 'needs-review');
      if (r.kind !== 'needs-review') return;
      assert.deepEqual(r.candidates, ['known']);
      assert.equal(r.replacementCpr.slice(0, 6), '120355');
      const task = JSON.parse((await repo.read('Task', r.taskId))!.json!) as Resource;
      assert.equal((task.focus as { reference: string }).reference, `Patient/${r.patientId}`);
      assert.deepEqual(
        (task.input as { valueReference: { reference: string } }[]).map((i) => i.valueReference.reference),
        ['Patient/known'],
      );
      const created = JSON.parse((await repo.read('Patient', r.patientId))!.json!) as Resource;
      assert.deepEqual(created.identifier, [
        { use: 'temp', system: 'urn:oid:1.2.208.176.1.6.1.3.183', value: r.replacementCpr },
      ]);
      // Nothing was merged silently: the known record is untouched.
      assert.equal((await repo.read('Patient', 'known'))!.version, 1);
    });

    test('no identifier and no match: a new record with a D-eCPR from the creation date when the birth date is unknown', async () => {
      const r = await resolveInboundPatient(
        repo,
        register,
        person({ name: [{ family: 'Ukendt' }], birthDate: undefined, gender: 'unknown' }),
      );
      assert.equal(r.kind, 'created');
      if (r.kind !== 'created') return;
      assert.equal(r.replacementCpr?.slice(0, 6), '291126');
    });
  });
}
