import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { SOR_SYSTEM } from '../access/access-control.ts';
import type { Resource } from '../store/repository.ts';
import { queryIndicators, workInProgress } from './indicator-queries.ts';

const T = (iso: string) => `2026-11-28T${iso}:00Z`;
const NOW = Date.parse('2026-11-28T20:00:00Z');
const org = (id: string, code: string, parent?: string): Resource => ({
  resourceType: 'Organization',
  id,
  identifier: [{ system: SOR_SYSTEM, value: code }],
  ...(parent ? { partOf: { reference: `Organization/${parent}` } } : {}),
});

/**
 * A small history, hand-computed: five troponin (NPU27501, stat) orders in section S1 (SOR 1003),
 * collection → report 30, 45, 55, 70, 90 min (median by lower nearest rank: 55; P90: 70;
 * within the NACB 60 min target: 3 of 5 = 60 %). One specimen haemolysed, one rejected; results
 * tagged autoverified ×2 and held ×1 (66.7 %); a critical value acknowledged after 12 min; one
 * open order received at 18:30 (overdue at 20:00 against 60 min).
 */
function history(): Resource[] {
  const out: Resource[] = [
    org('region', '1000'),
    org('hospital', '1001', 'region'),
    org('dept', '1002', 'hospital'),
    org('s1', '1003', 'dept'),
    org('s2', '1004', 'dept'),
    org('ed', '2001', 'hospital'),
  ];
  const tat = [30, 45, 55, 70, 90];
  tat.forEach((minutes, i) => {
    const sr = `sr${i}`;
    const h = 8 + i;
    const collected = Date.parse(T(`${h}:10`.padStart(5, '0')));
    const at = (ms: number) => new Date(ms).toISOString();
    out.push({
      resourceType: 'ServiceRequest',
      id: sr,
      status: 'active',
      intent: 'order',
      priority: 'stat',
      code: { coding: [{ system: 'http://npu-terminology.org', code: 'NPU27501' }] },
      subject: { reference: 'Patient/p1' },
      authoredOn: at(collected - 5 * 60_000),
      performer: [{ reference: 'Organization/s1' }],
      requester: { reference: 'Organization/ed' },
    });
    out.push({
      resourceType: 'Specimen',
      id: `sp${i}`,
      status: i === 4 ? 'unsatisfactory' : 'available',
      request: [{ reference: `ServiceRequest/${sr}` }],
      collection: { collectedDateTime: at(collected) },
      receivedTime: at(collected + 10 * 60_000),
      ...(i === 3
        ? { condition: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0493', code: 'HEM' }] }] }
        : {}),
    });
    out.push({
      resourceType: 'Observation',
      id: `obs${i}`,
      status: 'final',
      basedOn: [{ reference: `ServiceRequest/${sr}` }],
      code: { coding: [{ system: 'http://npu-terminology.org', code: 'NPU27501' }] },
      subject: { reference: 'Patient/p1' },
      issued: at(collected + (minutes - 2) * 60_000),
      device: { display: 'cobas-1' },
      ...(i < 3
        ? { meta: { tag: [{ system: 'urn:dxhub:result-processing', code: i < 2 ? 'autoverified' : 'held' }] } }
        : {}),
    });
    out.push({
      resourceType: 'DiagnosticReport',
      id: `dr${i}`,
      status: 'final',
      basedOn: [{ reference: `ServiceRequest/${sr}` }],
      code: { coding: [{ system: 'http://npu-terminology.org', code: 'NPU27501' }] },
      subject: { reference: 'Patient/p1' },
      issued: at(collected + minutes * 60_000),
    });
  });
  out.push(
    {
      resourceType: 'ServiceRequest',
      id: 'open1',
      status: 'active',
      intent: 'order',
      priority: 'stat',
      code: { coding: [{ system: 'http://npu-terminology.org', code: 'NPU03230' }] },
      subject: { reference: 'Patient/p1' },
      authoredOn: T('18:00'),
      performer: [{ reference: 'Organization/s2' }],
    },
    {
      resourceType: 'Specimen',
      id: 'spopen',
      status: 'available',
      request: [{ reference: 'ServiceRequest/open1' }],
      collection: { collectedDateTime: T('18:10') },
      receivedTime: T('18:30'),
    },
    {
      resourceType: 'CommunicationRequest',
      id: 'cv1',
      status: 'active',
      category: [{ coding: [{ system: 'urn:dxhub:result-processing', code: 'critical-value' }] }],
      subject: { reference: 'Patient/p1' },
      authoredOn: T('11:00'),
      requester: { reference: 'Organization/s1' },
    },
    {
      resourceType: 'Communication',
      id: 'cm1',
      status: 'completed',
      basedOn: [{ reference: 'CommunicationRequest/cv1' }],
      subject: { reference: 'Patient/p1' },
      sent: T('11:10'),
      received: T('11:12'),
    },
  );
  return out;
}

const near = (got: number | null | undefined, want: number, rel = 0.011) =>
  assert.ok(got !== null && got !== undefined && Math.abs(got - want) <= want * rel + 0.05, `${got} ≈ ${want}`);

for (const dialect of await testDialects()) {
  describe(dialect, () => {
    let dx: TestApp;
    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
      dx.repo.clock.now = () => NOW;
      for (const r of history()) await dx.repo.transaction((w) => dx.repo.put(w, r));
      while ((await dx.operations.runOnce()) > 0);
    });
    after(async () => dx.close());

    test(`${dialect}: stages from FHIR resources give hand-computed TAT, % in target, quality and critical-value times`, async () => {
      const db = dx.repo.db;
      const rows = await queryIndicators(db, { window: '7d', by: 'all', sections: null, now: NOW });
      const m = (measure: string) => rows.find((r) => r.measure === measure)!;
      const c2r = m('collection-to-report');
      assert.equal(c2r.n, 5);
      near(c2r.medianMinutes, 55);
      near(c2r.p90Minutes, 70);
      near(c2r.meanMinutes, 58);
      assert.equal(c2r.targeted, 5);
      assert.equal(c2r.withinTargetPercent, 60);
      assert.equal(m('receipt-to-report').n, 5);
      assert.equal(m('order-to-collection').n, 6, 'the open order was collected too');
      assert.equal(m('specimens').n, 6);
      assert.equal(m('rejected').n, 1);
      assert.equal(m('haemolysed').n, 1);
      assert.equal(m('results').n, 5);
      assert.equal(m('verification').n, 3);
      assert.equal(m('verification').hits, 2);
      assert.equal(m('completed').n, 5);
      near(m('critical-notification').medianMinutes, 12);
      // Breakdowns: by instrument (day buckets) and by orderer department.
      const byInstrument = await queryIndicators(db, {
        window: '7d',
        by: 'instrument',
        sections: null,
        now: NOW,
        measures: ['results'],
      });
      assert.deepEqual(
        byInstrument.map((r) => [r.group, r.n]),
        [['cobas-1', 5]],
      );
      const byDept = await queryIndicators(db, {
        window: '30d',
        by: 'department',
        sections: null,
        now: NOW,
        measures: ['orders'],
      });
      assert.deepEqual(
        byDept.map((r) => [r.group, r.n]),
        [
          ['2001', 5],
          ['unknown', 1],
        ],
      );
      // A year reads month buckets: the same counts and percentiles.
      const year = await queryIndicators(db, { window: '365d', by: 'all', sections: null, now: NOW });
      const summary = (rs: typeof rows) =>
        rs.map((r) => [r.measure, r.n, r.medianMinutes, r.p90Minutes, r.withinTargetPercent]);
      assert.deepEqual(summary(year), summary(rows));
      // Workload by hour of day (Danish time, UTC+1): reports at 08:40, 09:55, 11:05, 12:20, 13:40 UTC.
      const byHour = await queryIndicators(db, {
        window: '30d',
        by: 'hour',
        sections: null,
        now: NOW,
        measures: ['completed'],
      });
      assert.deepEqual(
        byHour.map((r) => [r.group, r.n]),
        [
          ['09', 1],
          ['10', 1],
          ['12', 1],
          ['13', 1],
          ['14', 1],
        ],
      );
    });

    test(`${dialect}: Little's law holds on the synthetic history (L = λ·W over the day)`, async () => {
      // Over the window [08:00, 20:00): mean orders in the lab (receipt → report) L = Σ W / T,
      // and λ = completed / T, so L = λ·W with W the mean receipt → report time.
      const rows = await queryIndicators(dx.repo.db, {
        window: '7d',
        by: 'all',
        sections: ['1003'],
        now: NOW,
        measures: ['receipt-to-report', 'completed'],
      });
      const w = rows.find((r) => r.measure === 'receipt-to-report')!;
      const completed = rows.find((r) => r.measure === 'completed')!.n;
      const hours = 12;
      const lambda = completed / hours;
      const totalWaitHours = (30 + 45 + 55 + 70 + 90 - 5 * 10) / 60;
      const L = totalWaitHours / hours;
      near(lambda * ((w.meanMinutes ?? 0) / 60), L, 0.02);
    });

    test(`${dialect}: redelivery and updates do not count twice; rebuild from history gives the same figures`, async () => {
      const db = dx.repo.db;
      const before = await queryIndicators(db, { window: '7d', by: 'all', sections: null, now: NOW });
      // An update of a final result (same status) and a new version of a report: no new facts.
      const obs = JSON.parse((await dx.repo.read('Observation', 'obs0'))!.json!);
      await dx.repo.transaction((w) => dx.repo.put(w, { ...obs, note: [{ text: 'comment' }] }));
      while ((await dx.operations.runOnce()) > 0);
      assert.deepEqual(await queryIndicators(db, { window: '7d', by: 'all', sections: null, now: NOW }), before);
      let progress = 0;
      await dx.operations.rebuild((done) => {
        progress = done;
      });
      assert.ok(progress > 0);
      assert.deepEqual(await queryIndicators(db, { window: '7d', by: 'all', sections: null, now: NOW }), before);
    });

    test(`${dialect}: work in progress lists the open order as overdue, with the order only for lab roles`, async () => {
      const wip = await workInProgress(dx.repo.db, {
        sections: null,
        now: NOW,
        config: dx.operations.config,
        withOrders: false,
      });
      assert.deepEqual(
        wip.byStage.map((s) => [s.section, s.stage, s.count]),
        [['1004', 'received', 1]],
      );
      assert.deepEqual(
        wip.overdue.map((o) => [o.interval, o.elapsedMinutes, o.targetMinutes, o.order]),
        [['receipt-to-report', 90, 60, undefined]],
      );
    });

    test(`${dialect}: /mi API — drill-down, roles, CSV, OpenAPI, errors`, async () => {
      const get = async (url: string, user?: Parameters<TestApp['bearer']>[0]) =>
        dx.app.inject({ url, headers: user ? { authorization: await dx.bearer(user) } : {} });
      const manager = { role: 'department-manager' as const, org: '1002' };
      const tat = await get('/mi/tat?window=7d&by=section&interval=collection-to-report', manager);
      assert.equal(tat.statusCode, 200, tat.body);
      assert.deepEqual(
        JSON.parse(tat.body).rows.map((r: { group: string; n: number }) => [r.group, r.n]),
        [['1003', 5]],
      );
      // A manager cannot look outside their department; a section below it is fine.
      assert.equal((await get('/mi/tat?window=7d&org=1001', manager)).statusCode, 403);
      const s2 = JSON.parse((await get('/mi/tat?window=7d&org=1004', manager)).body);
      assert.deepEqual(
        s2.rows.filter((r: { measure: string }) => r.measure === 'collection-to-report'),
        [],
      );
      // Managers see aggregates only: no order references in WIP.
      const wip = JSON.parse((await get('/mi/wip', manager)).body);
      assert.equal(wip.overdue.length, 1);
      assert.equal(wip.overdue[0].order, undefined);
      const labWip = JSON.parse((await get('/mi/wip', { role: 'lab-technologist', org: '1004' })).body);
      assert.equal(labWip.overdue[0].order, 'ServiceRequest/open1');
      assert.equal((await get('/mi/tat', { role: 'clinician', org: '1002' })).statusCode, 403);
      assert.equal((await get('/mi/tat?window=2d')).statusCode, 400);
      assert.match(JSON.parse((await get('/mi/tat?interval=bogus')).body).issue[0].diagnostics, /unknown interval/);
      const csv = await get('/mi/quality?window=7d&format=csv');
      assert.match(String(csv.headers['content-type']), /text\/csv/);
      assert.match(
        csv.body,
        /^group,specimens,rejectedPercent,haemolysedPercent,verifiedResults,autoverificationPercent/,
      );
      assert.match(csv.body, /,6,16\.7,16\.7,3,66\.7,1,/);
      const api = await get('/mi/openapi.json', manager);
      assert.equal(api.statusCode, 200);
      assert.ok(JSON.parse(api.body).paths['/mi/tat']);
      assert.equal((await dx.rawInject({ url: '/mi/tat' })).statusCode, 401);
      assert.equal((await get('/mi/requisitions')).statusCode, 200);
      // Interface health: an HL7 sender that has been quiet for two days is silent.
      const msh = (n: number) =>
        Buffer.from(
          `MSH|^~\\&|LIS|KBA|DXHUB|REGION|20261126080000||ADT^A08|CTRL${n}|P|2.5\rEVN|A08|20261126080000\rPID|1||0101011234^^^CPR||Test^Person\r`,
          'latin1',
        );
      await dx.inbox.accept(msh(1), '10.0.0.1');
      await dx.inbox.accept(msh(2), '10.0.0.1');
      const realNow = Date.now();
      const clock = dx.repo.clock.now;
      dx.repo.clock.now = () => realNow + 2 * 86_400_000;
      const ifaces = JSON.parse((await get('/mi/interfaces')).body);
      dx.repo.clock.now = clock;
      assert.deepEqual(ifaces.analyzers, []);
      assert.deepEqual(
        ifaces.hl7Senders.map((s: { sender: string; silent: boolean; messagesInWindow: number }) => [
          s.sender,
          s.silent,
          s.messagesInWindow,
        ]),
        [['LIS^KBA', true, 0]],
      );
      assert.equal(ifaces.ingest.totals.queueDepth, 2);
      // Drill-down: a sender whose MSH-4 is not in the organisation tree belongs to no section.
      const scoped = JSON.parse((await get('/mi/interfaces?org=1003')).body);
      assert.equal(scoped.org, '1003');
      assert.deepEqual(scoped.hl7Senders, []);
      assert.deepEqual(scoped.ingest.senders, []);
      const orgs = JSON.parse((await get('/mi/organisations')).body).nodes;
      assert.ok(orgs.some((n: { code: string; parent: string }) => n.code === '1003' && n.parent === '1002'));
      const metrics = await get('/metrics', { role: 'admin' });
      assert.match(metrics.body, /dxhub_ops_events_total \d+/);
    });
  });
}
