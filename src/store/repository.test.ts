import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import { CPR_SYSTEM, LOINC, NPU, observation, patient, UCUM } from '../../test/support/factories.ts';
import type { FhirError } from '../core/fhir/errors.ts';
import { newResourceId } from '../core/fhir/resource-id.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { OutboxConsumer } from './outbox.ts';
import type { FhirRepository, Resource } from './repository.ts';

/** The store contract suite: the same assertions on every dialect (CONVENTIONS §12). */
for (const dialect of await testDialects()) {
  describe(`store contract on ${dialect}`, () => {
    let repo: FhirRepository;
    before(async () => {
      repo = await freshRepo(dialect);
    });
    after(async () => {
      await repo.close();
    });

    const put = (r: Resource, opts?: { ifMatch?: number }) => repo.transaction((w) => repo.put(w, r, opts));
    const search = async (type: string, query: string) => {
      const page = await repo.search(parseSearchRequest(type, [...new URLSearchParams(query)] as [string, string][]));
      return page.matches.map((m) => JSON.parse(m.json) as Resource);
    };
    const ids = async (type: string, query: string) => (await search(type, query)).map((r) => r.id).sort();

    test('create assigns id, version 1 and lastUpdated; read returns it', async () => {
      const r = await put(patient());
      assert.equal(r.created, true);
      assert.equal(r.version, 1);
      const got = await repo.read('Patient', r.id);
      const body = JSON.parse(got!.json!) as Resource;
      assert.equal(body.id, r.id);
      assert.equal((body.meta as { versionId: string }).versionId, '1');
      assert.equal(typeof (body.meta as { lastUpdated: string }).lastUpdated, 'string');
    });

    test('a resource far larger than the store codec chunk (PostgreSQL: 1 kB of zlib output) reads back intact', async () => {
      // Text of many distinct lines: compressed it still spans many chunks each way.
      const text = Array.from({ length: 6000 }, (_, i) => `line ${i}: ${((i * 7919) % 104729).toString(36)} æøå`).join(
        '\n',
      );
      const r = await put({ ...patient(), id: 'big-1', text: { status: 'generated', div: `<div>${text}</div>` } });
      const got = JSON.parse((await repo.read('Patient', r.id))!.json!) as { text: { div: string } };
      assert.equal(got.text.div, `<div>${text}</div>`);
      const small = await put({ ...patient(), id: 'small-1' });
      assert.equal((JSON.parse((await repo.read('Patient', small.id))!.json!) as Resource).id, 'small-1');
    });

    test('update writes a new version and keeps the old one (vread, history)', async () => {
      const r1 = await put({ ...patient(), id: 'hist-1' });
      const r2 = await put({ ...patient(), id: 'hist-1', gender: 'female' });
      assert.equal(r1.version, 1);
      assert.equal(r2.version, 2);
      const v1 = JSON.parse((await repo.vread('Patient', 'hist-1', 1))!.json!) as Resource;
      assert.equal(v1.gender, 'male');
      const v2 = JSON.parse((await repo.vread('Patient', 'hist-1', 2))!.json!) as Resource;
      assert.equal(v2.gender, 'female');
      const h = await repo.history({ type: 'Patient', id: 'hist-1', count: 10 });
      assert.deepEqual(
        h.map((e) => [e.version, e.interaction]),
        [
          [2, 'update'],
          [1, 'create'],
        ],
      );
    });

    test('an unchanged update writes no version', async () => {
      const p = { ...patient(), id: 'same-1' };
      await put(p);
      const again = await put(p);
      assert.equal(again.unchanged, true);
      assert.equal(again.version, 1);
    });

    test('If-Match with a stale version is a 412 and changes nothing', async () => {
      await put({ ...patient(), id: 'ifm-1' });
      await put({ ...patient(), id: 'ifm-1', gender: 'female' });
      await assert.rejects(
        () => put({ ...patient(), id: 'ifm-1', gender: 'other' }, { ifMatch: 1 }),
        (e: FhirError) => e.status === 412,
      );
      const cur = await repo.read('Patient', 'ifm-1');
      assert.equal(cur!.version, 2);
      const ok = await put({ ...patient(), id: 'ifm-1', gender: 'other' }, { ifMatch: 2 });
      assert.equal(ok.version, 3);
    });

    test('delete is a version; the deleted resource leaves search; re-create continues versions', async () => {
      await put(observation({ id: 'del-1', subject: 'Patient/del-p' }));
      assert.deepEqual(await ids('Observation', 'subject=Patient/del-p'), ['del-1']);
      const d = await repo.transaction((w) => repo.delete(w, 'Observation', 'del-1'));
      assert.equal(d!.version, 2);
      assert.equal((await repo.read('Observation', 'del-1'))!.deleted, true);
      assert.deepEqual(await ids('Observation', 'subject=Patient/del-p'), []);
      assert.ok((await repo.vread('Observation', 'del-1', 1))!.json);
      const again = await put(observation({ id: 'del-1', subject: 'Patient/del-p' }));
      assert.equal(again.version, 3);
      assert.equal(again.created, true);
      assert.deepEqual(await ids('Observation', 'subject=Patient/del-p'), ['del-1']);
    });

    test('vreadMany answers each key as vread does (current, older, deleted, missing)', async () => {
      await put({ ...patient(), id: 'vm-1' });
      await put({ ...patient(), id: 'vm-1', gender: 'female' });
      await put({ ...patient(), id: 'vm-1', gender: 'other' });
      await put(observation({ id: 'vm-o', subject: 'Patient/vm-1' }));
      await repo.transaction((w) => repo.delete(w, 'Observation', 'vm-o'));
      const keys = [
        { type: 'Patient', id: 'vm-1', version: 3 },
        { type: 'Patient', id: 'vm-1', version: 1 },
        { type: 'Observation', id: 'vm-o', version: 2 },
        { type: 'Patient', id: 'vm-1', version: 2 },
        { type: 'Observation', id: 'vm-o', version: 1 },
        { type: 'Patient', id: 'vm-1', version: 9 },
        { type: 'Patient', id: 'vm-none', version: 1 },
        { type: 'Patient', id: 'vm-1', version: 1 },
      ];
      const many = await repo.vreadMany(keys);
      assert.equal(many.length, keys.length);
      for (const [i, k] of keys.entries()) {
        const one = await repo.vread(k.type, k.id, k.version);
        assert.deepEqual(many[i], one, `${k.type}/${k.id}/_history/${k.version}`);
      }
      assert.equal((JSON.parse(many[1]!.json!) as Resource).gender, 'male');
      assert.equal((JSON.parse(many[3]!.json!) as Resource).gender, 'female');
      assert.equal(many[2]!.deleted, true);
      assert.equal(many[5], undefined);
      assert.deepEqual(await repo.vreadMany([]), []);
    });

    test('an update moves index rows: old values no longer match', async () => {
      await put(observation({ id: 'mv-1', subject: 'Patient/mv', code: '2345-7' }));
      assert.deepEqual(await ids('Observation', `code=${LOINC}|2345-7&subject=Patient/mv`), ['mv-1']);
      await put(observation({ id: 'mv-1', subject: 'Patient/mv', code: '2951-2' }));
      assert.deepEqual(await ids('Observation', `code=${LOINC}|2345-7&subject=Patient/mv`), []);
      assert.deepEqual(await ids('Observation', `code=${LOINC}|2951-2&subject=Patient/mv`), ['mv-1']);
    });

    test('a failing transaction leaves nothing behind', async () => {
      await assert.rejects(
        repo.transaction(async (w) => {
          await repo.put(w, observation({ id: 'atomic-1', subject: 'Patient/atomic' }));
          await repo.put(w, observation({ id: 'atomic-2', subject: 'Patient/atomic' }));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await repo.read('Observation', 'atomic-1'), undefined);
      assert.deepEqual(await ids('Observation', 'subject=Patient/atomic'), []);
    });

    test('putMany writes as put one after another: versions, history, index rows, outbox, ifAbsent, repeats', async () => {
      await put(observation({ id: 'pm-1', subject: 'Patient/pm', code: '2345-7' }));
      await put(observation({ id: 'pm-2', subject: 'Patient/pm', code: '2345-7' }));
      await put({ resourceType: 'Task', id: 'pm-task', status: 'requested', intent: 'order' });
      await put({ resourceType: 'Task', id: 'pm-gone', status: 'requested', intent: 'order' });
      await repo.transaction((w) => repo.delete(w, 'Task', 'pm-gone'));
      const consumer = new OutboxConsumer(repo.db, 'pm-test');
      await consumer.ack((await repo.history({ count: 1 }))[0]!.seq);
      const results = await repo.transaction((w) =>
        repo.putMany(w, [
          { resource: observation({ id: 'pm-1', subject: 'Patient/pm', code: '2951-2' }), ifMatch: 1 },
          { resource: observation({ id: 'pm-2', subject: 'Patient/pm', code: '2345-7' }) },
          { resource: { resourceType: 'Task', id: 'pm-task', status: 'completed', intent: 'order' }, ifAbsent: true },
          { resource: { resourceType: 'Task', id: 'pm-gone', status: 'completed', intent: 'order' }, ifAbsent: true },
          { resource: { resourceType: 'Task', id: 'pm-new', status: 'requested', intent: 'order' }, ifAbsent: true },
          { resource: { resourceType: 'Provenance', recorded: '2026-01-01T00:00:00Z', target: [] } },
          // The same resource again: it sees the first write of this call.
          { resource: observation({ id: 'pm-1', subject: 'Patient/pm', code: '2951-2', value: 8 }), ifMatch: 2 },
        ]),
      );
      assert.deepEqual(
        results.map((r) => (r ? [r.id.startsWith('pm') ? r.id : 'new', r.version, r.created, r.unchanged] : 'skipped')),
        [
          ['pm-1', 2, false, false],
          ['pm-2', 1, false, true],
          'skipped',
          ['pm-gone', 3, true, false],
          ['pm-new', 1, true, false],
          ['new', 1, true, false],
          ['pm-1', 3, false, false],
        ],
      );
      assert.equal((JSON.parse((await repo.vread('Observation', 'pm-1', 1))!.json!) as Resource).id, 'pm-1');
      const v2 = JSON.parse((await repo.vread('Observation', 'pm-1', 2))!.json!) as {
        valueQuantity: { value: number };
      };
      assert.equal(v2.valueQuantity.value, 7.2);
      const v3 = JSON.parse((await repo.read('Observation', 'pm-1'))!.json!) as { valueQuantity: { value: number } };
      assert.equal(v3.valueQuantity.value, 8);
      assert.equal((JSON.parse((await repo.read('Task', 'pm-task'))!.json!) as Resource).status, 'requested');
      assert.equal((await repo.read('Task', 'pm-gone'))!.deleted, false);
      assert.deepEqual(await ids('Observation', `code=${LOINC}|2345-7&subject=Patient/pm`), ['pm-2']);
      assert.deepEqual(await ids('Observation', `code=${LOINC}|2951-2&subject=Patient/pm`), ['pm-1']);
      assert.deepEqual(
        (await consumer.poll(20)).map((e) => `${e.type}/${e.id.startsWith('pm') ? e.id : 'new'}@${e.version}`),
        ['Observation/pm-1@2', 'Task/pm-gone@3', 'Task/pm-new@1', 'Provenance/new@1', 'Observation/pm-1@3'],
      );
      await assert.rejects(
        repo.transaction((w) =>
          repo.putMany(w, [
            { resource: observation({ id: 'pm-2', subject: 'Patient/pm', value: 9 }) },
            { resource: observation({ id: 'pm-1', subject: 'Patient/pm', value: 9 }), ifMatch: 2 },
          ]),
        ),
        (e: FhirError) => e.status === 412,
      );
      assert.equal((await repo.read('Observation', 'pm-2'))!.version, 1);
    });

    test('putMany with fresh ids: created without a lookup; written again in the same call, it is an update', async () => {
      const id = newResourceId();
      const results = await repo.transaction((w) =>
        repo.putMany(w, [
          { resource: observation({ id, subject: 'Patient/pmf', value: 1 }), fresh: true },
          { resource: observation({ id, subject: 'Patient/pmf', value: 2 }) },
        ]),
      );
      assert.deepEqual(
        results.map((r) => [r!.version, r!.created]),
        [
          [1, true],
          [2, false],
        ],
      );
      assert.equal((await repo.read('Observation', id))!.version, 2);
      assert.deepEqual(await ids('Observation', 'subject=Patient/pmf'), [id]);
    });

    describe('search', () => {
      before(async () => {
        await put({
          ...patient(),
          id: 'sp1',
          identifier: [{ system: CPR_SYSTEM, value: '0201919990' }],
          name: [{ family: 'Ærø', given: ['Åse'] }],
        });
        await put({
          ...patient(),
          id: 'sp2',
          identifier: [{ system: CPR_SYSTEM, value: '0301919991' }],
          name: [{ family: 'Hansen' }],
        });
        const rows: [string, string, string, number, string][] = [
          ['s-o1', 'Patient/sp1', '718-7', 7.2, '2024-01-01T10:00:00Z'],
          ['s-o2', 'Patient/sp1', '718-7', 8.4, '2024-02-01T10:00:00Z'],
          ['s-o3', 'Patient/sp1', '2345-7', 5.1, '2024-03-01T10:00:00Z'],
          ['s-o4', 'Patient/sp2', '718-7', 9.0, '2023-06-15T08:30:00+02:00'],
        ];
        for (const [id, subject, code, value, date] of rows) await put(observation({ id, subject, code, value, date }));
        await put(
          observation({
            id: 's-o5',
            subject: 'Patient/sp2',
            code: '55284-4',
            valueQuantity: undefined,
            component: [
              {
                code: { coding: [{ system: LOINC, code: '8480-6' }] },
                valueQuantity: { value: 120, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' },
              },
              {
                code: { coding: [{ system: LOINC, code: '8462-4' }] },
                valueQuantity: { value: 80, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' },
              },
            ],
          }),
        );
      });

      test('token: system|code, code, |code, system|, :not', async () => {
        assert.deepEqual(await ids('Observation', `code=${LOINC}|718-7&subject=Patient/sp1`), ['s-o1', 's-o2']);
        assert.deepEqual(await ids('Observation', 'code=718-7&subject=Patient/sp1'), ['s-o1', 's-o2']);
        assert.deepEqual(await ids('Observation', 'code=|718-7&subject=Patient/sp1'), []);
        assert.deepEqual(await ids('Observation', `code=${NPU}|&subject=Patient/sp1`), []);
        assert.deepEqual(await ids('Observation', `code:not=${LOINC}|718-7&subject=Patient/sp1`), ['s-o3']);
        assert.deepEqual(await ids('Observation', `code:not=${LOINC}|718-7,${LOINC}|9999-9&subject=Patient/sp1`), [
          's-o3',
        ]);
        assert.deepEqual(await ids('Observation', `code:not=${LOINC}|718-7,${LOINC}|2345-7&subject=Patient/sp1`), []);
      });

      test('a CPR is found with or without its hyphen, also through a chain', async () => {
        assert.deepEqual(await ids('Patient', `identifier=${CPR_SYSTEM}|020191-9990&_id=sp1,sp2`), ['sp1']);
        assert.deepEqual(await ids('Patient', `identifier=${CPR_SYSTEM}|0201919990&_id=sp1,sp2`), ['sp1']);
        assert.deepEqual(await ids('Patient', 'identifier=020191-9990&_id=sp1,sp2'), ['sp1']);
        assert.deepEqual(await ids('Observation', `subject:Patient.identifier=${CPR_SYSTEM}|020191-9990`), [
          's-o1',
          's-o2',
          's-o3',
        ]);
        await put({ ...patient(), id: 'sp-hyphen', identifier: [{ system: CPR_SYSTEM, value: '150505-1234' }] });
        assert.deepEqual(await ids('Patient', `identifier=${CPR_SYSTEM}|1505051234`), ['sp-hyphen']);
      });

      test('reference forms and one level of chaining', async () => {
        assert.deepEqual(await ids('Observation', 'subject=sp2'), ['s-o4', 's-o5']);
        assert.deepEqual(await ids('Observation', 'subject:Patient=sp2'), ['s-o4', 's-o5']);
        assert.deepEqual(await ids('Observation', 'patient=Patient/sp2'), ['s-o4', 's-o5']);
        // Several values (each alternative its own index range), with other filters and an alias.
        assert.deepEqual(await ids('Observation', 'subject=Patient/sp2,Patient/sp1,Patient/nobody&code=718-7'), [
          's-o1',
          's-o2',
          's-o4',
        ]);
        assert.deepEqual(await ids('Observation', 'patient=sp1,sp2&code=2345-7'), ['s-o3']);
        assert.deepEqual(await ids('Observation', `code=${LOINC}|2345-7,${LOINC}|718-7&subject=Patient/sp1`), [
          's-o1',
          's-o2',
          's-o3',
        ]);
        assert.deepEqual(await ids('Observation', `subject:Patient.identifier=${CPR_SYSTEM}|0201919990`), [
          's-o1',
          's-o2',
          's-o3',
        ]);
      });

      test('reverse chaining with _has (also through an alias parameter)', async () => {
        assert.deepEqual(await ids('Patient', '_has:Observation:subject:code=2345-7&_id=sp1,sp2'), ['sp1']);
        assert.deepEqual(await ids('Patient', `_has:Observation:patient:code=${LOINC}|718-7&_id=sp1,sp2`), [
          'sp1',
          'sp2',
        ]);
        assert.deepEqual(await ids('Patient', '_has:Observation:subject:code=no-such-code&_id=sp1,sp2'), []);
      });

      test('searchEach answers several searches in one statement, each as the search alone (also in a transaction)', async () => {
        const queries: [string, string][] = [
          ['Observation', 'subject=Patient/sp1&code=718-7'],
          ['Patient', 'family:exact=Hansen'],
          ['Observation', 'code=no-such-code'],
          ['Observation', 'subject=Patient/sp1&date=ge2024-02-01'],
        ];
        const reqs = queries.map(([type, q]) =>
          parseSearchRequest(type, [...new URLSearchParams(q)] as [string, string][]),
        );
        const each = await repo.searchEach(reqs);
        const got = each.map((list) => list.map((json) => (JSON.parse(json) as Resource).id).sort());
        assert.deepEqual(got, await Promise.all(queries.map(([type, q]) => ids(type, q))));
        assert.deepEqual(got, [['s-o1', 's-o2'], ['sp2'], [], ['s-o2', 's-o3']]);
        // Inside a transaction its uncommitted writes count, and vanish with its rollback.
        await assert.rejects(
          repo.transaction(async (w) => {
            await repo.put(w, observation({ id: 's-o9', subject: 'Patient/sp1', code: '718-7', value: 7.7 }));
            const inTx = await repo.searchEach(reqs.slice(0, 1), w);
            assert.deepEqual(inTx[0]!.map((json) => (JSON.parse(json) as Resource).id).sort(), [
              's-o1',
              's-o2',
              's-o9',
            ]);
            throw new Error('roll back');
          }),
          /roll back/,
        );
        assert.deepEqual((await repo.searchEach(reqs.slice(0, 1)))[0]!.length, 2);
      });

      test('string: starts-with, accents and case folded, :exact, :contains', async () => {
        assert.deepEqual(await ids('Patient', 'name=ASE&_id=sp1,sp2'), ['sp1']);
        assert.deepEqual(await ids('Patient', 'family:exact=Ærø&_id=sp1,sp2'), ['sp1']);
        assert.deepEqual(await ids('Patient', 'family:exact=ærø&_id=sp1,sp2'), []);
        assert.deepEqual(await ids('Patient', 'family:contains=ans&_id=sp1,sp2'), ['sp2']);
      });

      test('date prefixes and precision', async () => {
        const q = (d: string) => ids('Observation', `subject=Patient/sp1&date=${d}`);
        assert.deepEqual(await q('2024-01'), ['s-o1']);
        assert.deepEqual(await q('gt2024-01-31'), ['s-o2', 's-o3']);
        assert.deepEqual(await q('ge2024-02-01'), ['s-o2', 's-o3']);
        assert.deepEqual(await q('lt2024-02-01'), ['s-o1']);
        assert.deepEqual(await q('le2024-02-01'), ['s-o1', 's-o2']);
        assert.deepEqual(await q('ne2024-02-01'), ['s-o1', 's-o3']);
        assert.deepEqual(await q('sa2024-01-31'), ['s-o2', 's-o3']);
        assert.deepEqual(await q('eb2024-02-01'), ['s-o1']);
        assert.deepEqual(await q('2024-01-01T10:00:00Z'), ['s-o1']);
        // 08:30+02:00 is 06:30Z: the zone is honoured.
        assert.deepEqual(await ids('Observation', 'subject=Patient/sp2&date=2023-06-15T06:30:00Z'), ['s-o4']);
      });

      test('quantity with prefixes, implicit precision and units', async () => {
        assert.deepEqual(await ids('Observation', `subject=Patient/sp1&value-quantity=gt7.5|${UCUM}|mmol/L`), ['s-o2']);
        assert.deepEqual(await ids('Observation', 'subject=Patient/sp1&value-quantity=7.2'), ['s-o1']);
        assert.deepEqual(await ids('Observation', 'subject=Patient/sp1&value-quantity=7'), ['s-o1']);
        assert.deepEqual(await ids('Observation', 'subject=Patient/sp1&value-quantity=le5.1||mmol/L'), ['s-o3']);
        assert.deepEqual(await ids('Observation', 'subject=Patient/sp1&value-quantity=gt1||mg'), []);
      });

      test('composite: code-value-quantity and component-code-value-quantity keep their pairing', async () => {
        assert.deepEqual(await ids('Observation', `code-value-quantity=${LOINC}|718-7$gt8`), ['s-o2', 's-o4']);
        assert.deepEqual(await ids('Observation', `component-code-value-quantity=${LOINC}|8480-6$gt100`), ['s-o5']);
        assert.deepEqual(await ids('Observation', `component-code-value-quantity=${LOINC}|8462-4$gt100`), []);
      });

      test(':missing, _id, _lastUpdated, _sort, _count and totals', async () => {
        assert.deepEqual(await ids('Observation', 'subject=Patient/sp2&value-quantity:missing=true'), ['s-o5']);
        assert.deepEqual(await ids('Observation', '_id=s-o1,s-o3'), ['s-o1', 's-o3']);
        assert.ok((await ids('Observation', '_lastUpdated=gt2000-01-01&_id=s-o1')).includes('s-o1'));
        const sorted = (await search('Observation', 'subject=Patient/sp1&_sort=-date')).map((r) => r.id);
        assert.deepEqual(sorted, ['s-o3', 's-o2', 's-o1']);
        const byTwo = (await search('Observation', 'subject=Patient/sp1&_sort=code,-date')).map((r) => r.id);
        assert.deepEqual(byTwo, ['s-o3', 's-o2', 's-o1']);
        const page = await repo.search(
          parseSearchRequest('Observation', [
            ['subject', 'Patient/sp1'],
            ['_count', '2'],
            ['_total', 'accurate'],
          ]),
        );
        assert.equal(page.matches.length, 2);
        assert.equal(page.hasNext, true);
        assert.equal(page.total, 3);
      });

      test('values are bound: injection strings match nothing and break nothing', async () => {
        for (const evil of ["' OR 1=1 --", "x'); DROP TABLE resource; --", '%', '_', '\\']) {
          assert.deepEqual(await ids('Patient', `name=${encodeURIComponent(evil)}`), []);
          assert.deepEqual(await ids('Observation', `code=${encodeURIComponent(evil)}`), []);
        }
        assert.ok((await repo.read('Patient', 'sp1'))?.json);
      });
    });

    test('outbox: every write is an event, in commit order, resumable after restart', async () => {
      const consumer = new OutboxConsumer(repo.db, `c-${dialect}`);
      const start = await consumer.poll(100000);
      if (start.length) await consumer.ack(start[start.length - 1]!.seq);
      await put(observation({ id: 'ob-1' }));
      await put(observation({ id: 'ob-1', value: 1 }));
      await repo.transaction((w) => repo.delete(w, 'Observation', 'ob-1'));
      const events = await consumer.poll();
      assert.deepEqual(
        events.map((e) => [e.id, e.version, e.interaction]),
        [
          ['ob-1', 1, 'create'],
          ['ob-1', 2, 'update'],
          ['ob-1', 3, 'delete'],
        ],
      );
      await consumer.ack(events[1]!.seq);
      // A new consumer object with the same name (a restarted process) resumes after the ack.
      const resumed = await new OutboxConsumer(repo.db, `c-${dialect}`).poll();
      assert.deepEqual(
        resumed.map((e) => e.version),
        [3],
      );
    });

    test('concurrent writers on the same ids: no failures, no lost versions', async () => {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          repo.transaction(async (w) => {
            for (let k = 0; k < 5; k++) await repo.put(w, observation({ id: `cc-${k}`, value: i * 10 + k }));
          }),
        ),
      );
      for (let k = 0; k < 5; k++) {
        const cur = await repo.read('Observation', `cc-${k}`);
        const history = await repo.history({ type: 'Observation', id: `cc-${k}`, count: 100 });
        assert.equal(history.length, cur!.version);
      }
    });
  });
}
