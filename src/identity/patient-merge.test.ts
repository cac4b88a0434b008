import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { CPR_SYSTEM, observation, patient } from '../../test/support/factories.ts';
import { verifyAuditChain, whoLookedAt } from '../audit/index.ts';
import { D_ECPR_SYSTEM } from '../core/identity/index.ts';

const DECPR = `${D_ECPR_SYSTEM}.183`;

for (const dialect of await testDialects()) {
  describe(`patient merge and unmerge on ${dialect}`, () => {
    let dx: TestApp;
    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
    });
    after(async () => dx.close());

    const req = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => {
      const r = await dx.app.inject({
        method,
        url,
        payload: payload as object,
        headers: { 'content-type': 'application/fhir+json' },
      });
      return { status: r.statusCode, json: r.json() as Record<string, unknown> };
    };
    const ids = async (query: string) => {
      const b = (await req('GET', `/fhir/${query}&_count=100`)).json as { entry?: { resource: { id: string } }[] };
      return (b.entry ?? []).map((e) => e.resource.id).sort();
    };
    const op = (name: string, parameter: unknown[]) =>
      req('POST', `/fhir/Patient/$${name}`, { resourceType: 'Parameters', parameter });

    test('a temporary record merged into the real one: every result follows; undo restores both', async () => {
      // The unconscious patient: a D-eCPR record with results, an order and a specimen.
      await req('PUT', '/fhir/Patient/tmp', {
        ...patient(),
        id: 'tmp',
        identifier: [{ system: DECPR, value: '0101900AB1', use: 'temp' }],
      });
      await req('PUT', '/fhir/Patient/real', {
        ...patient(),
        id: 'real',
        identifier: [{ system: CPR_SYSTEM, value: '0101901234' }],
      });
      for (const id of ['t1', 't2', 't3'])
        await req('PUT', `/fhir/Observation/${id}`, observation({ id, subject: 'Patient/tmp' }));
      await req('PUT', '/fhir/Observation/r1', observation({ id: 'r1', subject: 'Patient/real' }));
      await req('PUT', '/fhir/ServiceRequest/sr1', {
        resourceType: 'ServiceRequest',
        id: 'sr1',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/tmp' },
      });
      await req('PUT', '/fhir/Specimen/sp1', {
        resourceType: 'Specimen',
        id: 'sp1',
        subject: { reference: 'Patient/tmp' },
      });

      const merged = await op('merge', [
        { name: 'source-patient-identifier', valueIdentifier: { system: DECPR, value: '0101900AB1' } },
        { name: 'target-patient', valueReference: { reference: 'Patient/real' } },
      ]);
      assert.equal(merged.status, 200);
      const mergeId = (merged.json.parameter as { name: string; valueString?: string }[]).find(
        (p) => p.name === 'merge-id',
      )!.valueString!;

      const all = ['r1', 't1', 't2', 't3'];
      // Either identifier finds the whole history.
      assert.deepEqual(await ids(`Observation?subject:Patient.identifier=${CPR_SYSTEM}|010190-1234`), all);
      assert.deepEqual(await ids(`Observation?subject:Patient.identifier=${DECPR}|0101900AB1`), all);
      assert.deepEqual(await ids('ServiceRequest?patient=real'), ['sr1']);
      assert.deepEqual(await ids('Specimen?subject=Patient/real'), ['sp1']);
      const source = (await req('GET', '/fhir/Patient/tmp')).json as {
        active?: boolean;
        link?: { type: string; other: { reference: string } }[];
      };
      assert.equal(source.active, false);
      assert.deepEqual(source.link, [{ other: { reference: 'Patient/real' }, type: 'replaced-by' }]);
      const target = (await req('GET', '/fhir/Patient/real')).json as {
        link?: unknown[];
        identifier: { use?: string }[];
      };
      assert.deepEqual(target.link, [{ other: { reference: 'Patient/tmp' }, type: 'replaces' }]);
      assert.equal(target.identifier.length, 2);
      assert.deepEqual(await ids('Provenance?target=Patient/tmp'), [
        (merged.json.parameter as { name: string; valueReference?: { reference: string } }[])
          .find((p) => p.name === 'provenance')!
          .valueReference!.reference.split('/')[1]!,
      ]);

      // Merging again is refused; the same patient into itself too.
      assert.equal(
        (
          await op('merge', [
            { name: 'source-patient', valueReference: { reference: 'Patient/tmp' } },
            { name: 'target-patient', valueReference: { reference: 'Patient/real' } },
          ])
        ).status,
        409,
      );
      assert.equal(
        (
          await op('merge', [
            { name: 'source-patient', valueReference: { reference: 'Patient/real' } },
            { name: 'target-patient', valueReference: { reference: 'Patient/real' } },
          ])
        ).status,
        400,
      );

      // Undo: both records as they were, every resource still reachable.
      const undone = await op('unmerge', [{ name: 'merge-id', valueString: mergeId }]);
      assert.equal(undone.status, 200);
      assert.deepEqual(await ids('Observation?subject=Patient/tmp'), ['t1', 't2', 't3']);
      assert.deepEqual(await ids('Observation?subject=Patient/real'), ['r1']);
      assert.deepEqual(await ids('ServiceRequest?patient=tmp'), ['sr1']);
      assert.deepEqual(await ids(`Observation?subject:Patient.identifier=${DECPR}|0101900AB1`), ['t1', 't2', 't3']);
      const restored = (await req('GET', '/fhir/Patient/tmp')).json as { active?: boolean; link?: unknown };
      assert.equal(restored.active, undefined);
      assert.equal(restored.link, undefined);
      const realAgain = (await req('GET', '/fhir/Patient/real')).json as { link?: unknown; identifier: unknown[] };
      assert.equal(realAgain.link, undefined);
      assert.equal(realAgain.identifier.length, 1);
      assert.equal((await op('unmerge', [{ name: 'merge-id', valueString: mergeId }])).status, 409);

      // The merge and its undo are in the hash-chained audit trail of both patients (staged entries
      // on PostgreSQL are chained first).
      await dx.audit.flushed();
      for (const pid of ['tmp', 'real']) {
        const log = await whoLookedAt(dx.repo.db, pid, { count: 10 });
        const texts = log.map((e) => JSON.stringify(e.event));
        assert.equal(texts.filter((t) => t.includes(`patient merge ${mergeId}`)).length, 1, pid);
        assert.equal(texts.filter((t) => t.includes(`patient unmerge ${mergeId}`)).length, 1, pid);
      }
      assert.equal((await verifyAuditChain(dx.repo.db)).ok, true);
    });

    test('bad requests name the problem', async () => {
      assert.equal(
        (await op('merge', [{ name: 'source-patient', valueReference: { reference: 'Patient/nope' } }])).status,
        400,
      );
      assert.equal(
        (
          await op('merge', [
            { name: 'source-patient', valueReference: { reference: 'Patient/nope' } },
            { name: 'target-patient', valueReference: { reference: 'Patient/real' } },
          ])
        ).status,
        404,
      );
      const notParams = await req('POST', '/fhir/Patient/$merge', { resourceType: 'Patient' });
      assert.equal(notParams.status, 400);
      assert.equal(notParams.json.resourceType, 'OperationOutcome');
    });
  });
}
