import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CommunicationRequest, Observation, Task } from '@medplum/fhirtypes';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import { prng } from '../../test/support/prng.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { CODES } from '../core/results/index.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import { autoverificationRate } from './autoverification-rate.ts';
import { criticalValues, escalateUnacknowledged, recordCommunication } from './critical-values.ts';
import { acknowledgeIncidental, openIncidentalFindings } from './incidental-findings.ts';
import { EXT, processingTags, RP } from './result-facts.ts';
import { ResultPipeline } from './result-pipeline.ts';
import { heldResults } from './review-worklist.ts';

const T0 = Date.parse('2026-11-29T08:00:00Z');
const iso = (t: number) => new Date(t).toISOString();

for (const dialect of await testDialects()) {
  describe(`result pipeline (${dialect})`, () => {
    let repo: FhirRepository;
    let pipeline: ResultPipeline;
    let now = T0;
    let n = 0;
    const put = async (r: Resource) => JSON.parse((await repo.transaction((w) => repo.put(w, r))).json!) as Resource;
    const read = async <T>(type: string, id: string) => JSON.parse((await repo.read(type, id))!.json!) as T;
    const search = async <T>(type: string, params: [string, string][]) =>
      (await repo.search(parseSearchRequest(type, params))).matches.map((m) => JSON.parse(m.json) as T);
    const obs = (
      code: { system: string; code: string },
      value: number,
      unit: string,
      more: Partial<Observation> = {},
    ) =>
      put({
        resourceType: 'Observation',
        id: `o${++n}`,
        status: 'preliminary',
        category: [
          { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
        ],
        code: { coding: [code] },
        subject: { reference: 'Patient/p1' },
        specimen: { reference: 'Specimen/s1' },
        basedOn: [{ reference: 'ServiceRequest/sr1' }],
        effectiveDateTime: iso(now),
        valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
        ...more,
      } as Resource);

    before(async () => {
      repo = await freshRepo(dialect, { now: () => now });
      pipeline = new ResultPipeline({ repo, now: () => now });
      await put({ resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1956-05-01' });
      await put({ resourceType: 'Organization', id: 'org1', name: 'Medicinsk afdeling' });
      await put({ resourceType: 'Specimen', id: 's1', subject: { reference: 'Patient/p1' } });
      await put({
        resourceType: 'ServiceRequest',
        id: 'sr1',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/p1' },
        requester: { reference: 'Organization/org1' },
        extension: [
          {
            url: EXT.preTestProbability,
            extension: [
              { url: 'condition', valueCode: 'pulmonary-embolism' },
              { url: 'probability', valueDecimal: 0.15 },
            ],
          },
        ],
      });
    });
    after(() => repo.close());

    it('autoverifies a clean result: final, tag, interpretation, reference range, Provenance with the rule-set version', async () => {
      await obs(CODES.potassium, 4.0, 'mmol/L', { id: 'k1' });
      await pipeline.drain();
      const o = await read<Observation>('Observation', 'k1');
      assert.equal(o.status, 'final');
      assert.deepEqual(
        o.meta?.tag?.find((t) => t.system === RP),
        { system: RP, code: 'autoverified' },
      );
      assert.equal(o.interpretation?.[0]?.coding?.[0]?.code, 'N');
      assert.equal(o.referenceRange?.[0]?.low?.value, 3.6);
      const prov = await search<{ policy: string[] }>('Provenance', [['target', 'Observation/k1/_history/2']]);
      assert.deepEqual(prov[0]?.policy, ['urn:dxhub:rule-set:dxhub-results:2026.11.1']);
    });

    it('holds a critical value with the reason and raises Flag + CommunicationRequest; notification, acknowledgement, read-back; escalation', async () => {
      await obs(CODES.potassium, 6.9, 'mmol/L', { id: 'k2' });
      await obs(CODES.potassium, 2.1, 'mmol/L', { id: 'k3' });
      await pipeline.drain();
      const o = await read<Observation>('Observation', 'k2');
      assert.equal(o.status, 'preliminary');
      assert.equal(o.interpretation?.[0]?.coding?.[0]?.code, 'HH');
      const held = await heldResults(repo);
      assert.ok(
        held.some((h) => h.observation?.id === 'k2' && h.reasons.some((r) => r.includes('critical value 6.9'))),
      );
      const cr = await read<CommunicationRequest>('CommunicationRequest', 'rp-crit-k2');
      assert.deepEqual(cr.category?.[0]?.coding?.[0], { system: RP, code: 'critical-value' });
      assert.equal(cr.authoredOn, iso(now));
      assert.deepEqual(cr.about?.[0], { reference: 'Observation/k2' });
      assert.deepEqual(cr.recipient, [{ reference: 'Organization/org1' }]);
      assert.equal((await read<{ status: string }>('Flag', 'rp-crit-k2')).status, 'active');

      await recordCommunication(repo, 'rp-crit-k2', 'notification', { now: now + 7 * 60_000 });
      await recordCommunication(repo, 'rp-crit-k2', 'read-back', { now: now + 8 * 60_000, text: 'K 6.9' });
      await recordCommunication(repo, 'rp-crit-k2', 'acknowledgement', { now: now + 9 * 60_000, sender: 'Dr. Hansen' });
      await assert.rejects(
        recordCommunication(repo, 'rp-crit-k2', 'acknowledgement', { now: now + 10 * 60_000 }),
        /already acknowledged/,
      );
      assert.equal((await read<CommunicationRequest>('CommunicationRequest', 'rp-crit-k2')).status, 'completed');
      assert.equal((await read<{ status: string }>('Flag', 'rp-crit-k2')).status, 'inactive');
      const status = (await criticalValues(repo, T0)).find((c) => c.request === 'CommunicationRequest/rp-crit-k2')!;
      assert.equal(status.minutesToNotification, 7);
      assert.equal(status.minutesToAcknowledgement, 9);

      assert.deepEqual(await escalateUnacknowledged(repo, now + 30 * 60_000, 60), [], 'not yet due');
      assert.deepEqual(
        await escalateUnacknowledged(repo, now + 61 * 60_000, 60),
        ['rp-crit-k3'],
        'the acknowledged one is not escalated',
      );
      assert.deepEqual(await escalateUnacknowledged(repo, now + 90 * 60_000, 60), [], 'escalated once');
    });

    it('bad input is held with its reason, never released', async () => {
      await obs(CODES.sodium, 140, 'mg/dL', { id: 'na-unit' });
      await obs(CODES.sodium, 140, 'mmol/L', { id: 'na-nospec', specimen: undefined });
      await obs({ system: 'urn:dxhub:local:analysis', code: 'UNKNOWN' }, 1, '1', { id: 'unk' });
      await pipeline.drain();
      const held = await heldResults(repo);
      const reasons = (id: string) => held.find((h) => h.observation?.id === id)?.reasons.join(' ') ?? '';
      assert.match(reasons('na-unit'), /unit-not-convertible/);
      assert.match(reasons('na-nospec'), /missing-specimen/);
      assert.match(reasons('unk'), /unknown-analysis/);
      for (const id of ['na-unit', 'na-nospec', 'unk'])
        assert.equal((await read<Observation>('Observation', id)).status, 'preliminary');
    });

    it('a final result from a LIS gets interpretation, eGFR (derivedFrom), and is not re-tagged', async () => {
      await obs(CODES.creatinine, 90, 'umol/L', { id: 'cr1', status: 'final' });
      await pipeline.drain();
      const o = await read<Observation>('Observation', 'cr1');
      assert.equal(o.status, 'final');
      assert.equal(
        o.meta?.tag?.find((t) => t.system === RP),
        undefined,
      );
      assert.equal(o.interpretation?.[0]?.coding?.[0]?.code, 'N');
      const egfr = await search<Observation>('Observation', [['derived-from', 'Observation/cr1']]);
      assert.equal(egfr[0]?.valueQuantity?.value, 59.3, 'woman 70 y, 90 µmol/L (Inker 2021 worked example)');
    });

    it('reflex: TSH above the interval orders FT4 on the same specimen', async () => {
      await obs(CODES.tsh, 8.1, 'm[IU]/L', { id: 'tsh1' });
      await pipeline.drain();
      const sr = await read<{
        intent: string;
        code: { coding: { code: string }[] };
        specimen: { reference: string }[];
      }>('ServiceRequest', 'rp-reflex-tsh-ft4-tsh1');
      assert.equal(sr.intent, 'reflex-order');
      assert.equal(sr.code.coding[0]?.code, 'NPU03579');
      assert.deepEqual(sr.specimen, [{ reference: 'Specimen/s1' }]);
    });

    it('likelihood ratio: D-dimer with a 15 % pre-test probability of PE; age-adjusted cut-off derived', async () => {
      await obs(CODES.dDimer, 0.3, 'mg/L', { id: 'dd1' });
      await pipeline.drain();
      const o = await read<Observation>('Observation', 'dd1');
      assert.match(
        o.note?.[0]?.text ?? '',
        /post-test probability 1\.3 %.*posttest-sandsynlighed 1,3 %|post-test probability 1\.3 %/,
      );
      const post = o.extension?.find((e) => e.url === EXT.postTestProbability);
      assert.equal(post?.extension?.find((e) => e.url === 'postTest')?.valueDecimal, 0.0127);
      const cutoff = await search<Observation>('Observation', [['derived-from', 'Observation/dd1']]);
      assert.equal(cutoff[0]?.valueQuantity?.value, 0.7);
    });

    it('delta check against the previous result holds, with the previous value in the reason', async () => {
      now += 3_600_000;
      await obs(CODES.sodium, 140, 'mmol/L', { id: 'na1', effectiveDateTime: iso(now - 1_800_000) });
      await obs(CODES.sodium, 146, 'mmol/L', { id: 'na2' });
      await pipeline.drain();
      const held = await heldResults(repo);
      assert.match(
        held.find((h) => h.observation?.id === 'na2')?.reasons.join(' ') ?? '',
        /delta-rcv.*change from 140/,
      );
    });

    it('release and reject by a laboratory physician; idempotent on redelivery', async () => {
      const task = (id: string) => `rp-review-${id}`;
      const released = await pipeline.decide(task('na2'), 'release', { display: 'Dr. Lab' });
      assert.equal(released.status, 'final');
      const rejected = await pipeline.decide(
        task('na-unit'),
        'reject',
        { display: 'Dr. Lab' },
        { reason: 'wrong unit from analyzer' },
      );
      assert.equal(rejected.status, 'cancelled');
      await assert.rejects(pipeline.decide(task('na2'), 'release', { display: 'x' }), /already completed/);
      await pipeline.drain();
      assert.equal(
        (await read<Observation>('Observation', 'na2')).meta?.tag?.find((t) => t.system === RP)?.code,
        'released',
      );
      // Redelivery after a crash between commit and ack: every event again.
      const tasksBefore = (await search<Task>('Task', [['_count', '500']])).length;
      const versionBefore = (await repo.read('Observation', 'k1'))!.version;
      await repo.db.run('UPDATE outbox_consumer SET position = 0 WHERE name = ?', ['result-pipeline']);
      await pipeline.drain();
      assert.equal((await search<Task>('Task', [['_count', '500']])).length, tasksBefore);
      assert.equal((await repo.read('Observation', 'k1'))!.version, versionBefore);
    });

    it('incidental finding: follow-up Task for the requester until acknowledged', async () => {
      await put({
        resourceType: 'DiagnosticReport',
        id: 'dr1',
        status: 'final',
        code: { text: 'CT thorax' },
        subject: { reference: 'Patient/p1' },
        basedOn: [{ reference: 'ServiceRequest/sr1' }],
        extension: [{ url: EXT.incidentalFinding, valueBoolean: true }],
      });
      await pipeline.drain();
      const open = await openIncidentalFindings(repo);
      const t = open.find((x) => x.focus?.reference === 'DiagnosticReport/dr1')!;
      assert.deepEqual(t.owner, { reference: 'Organization/org1' });
      await acknowledgeIncidental(repo, t.id!, 'Dr. Hansen', 'CT control in 3 months', now);
      assert.equal(
        (await openIncidentalFindings(repo)).some((x) => x.id === t.id),
        false,
      );
    });

    it('a synthetic day (seeded PRNG): plausible autoverification rate, every held result explained', async () => {
      const rnd = prng(20261129);
      const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
      const mix: [(typeof CODES)[keyof typeof CODES], number, number, string][] = [
        [CODES.potassium, 4.1, 0.35, 'mmol/L'],
        [CODES.sodium, 140, 2.5, 'mmol/L'],
        [CODES.chloride, 104, 2.5, 'mmol/L'],
        [CODES.alt, 25, 10, 'U/L'],
        [CODES.tsh, 1.8, 0.9, 'm[IU]/L'],
        [CODES.haemoglobin, 8.3, 0.6, 'mmol/L'],
      ];
      const day = Date.parse('2026-11-30T00:00:00Z');
      for (let p = 0; p < 20; p++) {
        await put({
          resourceType: 'Patient',
          id: `d${p}`,
          gender: p % 2 ? 'male' : 'female',
          birthDate: `${1940 + p * 2}-03-15`,
        });
      }
      for (let i = 0; i < 240; i++) {
        now = day + i * 6 * 60_000;
        const [code, mean, sd, unit] = mix[Math.floor(rnd() * mix.length)]!;
        const value = Math.round((mean + gauss() * sd) * 100) / 100;
        const flags = rnd() < 0.01 ? [{ url: EXT.instrumentFlag, valueCode: 'clot' }] : [];
        await obs(code, value, unit, {
          id: `day${i}`,
          subject: { reference: `Patient/d${Math.floor(rnd() * 20)}` },
          specimen: { reference: `Specimen/day${i}` },
          extension: flags,
        });
      }
      await pipeline.drain();
      const rows = (await autoverificationRate(repo.db, day, day + 86_400_000)).filter((r) => r.total > 0);
      const total = rows.reduce((s, r) => s + r.total, 0);
      const auto = rows.reduce((s, r) => s + r.autoverified, 0);
      assert.equal(total, 240);
      const rate = auto / total;
      process.stdout.write(
        `# synthetic day (${dialect}): ${auto}/${total} autoverified (${(rate * 100).toFixed(1)} %)\n`,
      );
      assert.ok(rate > 0.6 && rate < 0.99, `rate ${rate}`);
      const held = (await heldResults(repo, 500)).filter((h) => h.observation?.id?.startsWith('day'));
      assert.equal(held.length, total - auto);
      for (const h of held) assert.ok(h.reasons.length > 0, `held ${h.observation?.id} without a reason`);
    });
  });
}

for (const dialect of await testDialects()) {
  describe(`result pipeline loop (${dialect})`, () => {
    it('runs again at once after a full batch, and waits for the poll interval after a partial one', async () => {
      const repo = await freshRepo(dialect);
      // A poll interval far longer than the test: only the rule under test can make it progress.
      const pipeline = new ResultPipeline({ repo, pollMs: 60_000, batch: 5 });
      let polls = 0;
      let empty = 0;
      const poll = pipeline.consumer.poll.bind(pipeline.consumer);
      pipeline.consumer.poll = async (limit?: number) => {
        const events = await poll(limit);
        polls++;
        if (events.length === 0) empty++;
        return events;
      };
      try {
        await repo.transaction(async (w) => {
          await repo.put(w, { resourceType: 'Patient', id: 'loop-p' } as Resource);
          for (let i = 0; i < 12; i++)
            await repo.put(w, {
              resourceType: 'Observation',
              id: `loop-${i}`,
              status: 'preliminary',
              category: [
                {
                  coding: [
                    { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
                  ],
                },
              ],
              code: { coding: [CODES.potassium] },
              subject: { reference: 'Patient/loop-p' },
              effectiveDateTime: iso(T0 + i * 60_000),
              valueQuantity: { value: 4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
            } as Resource);
        });
        pipeline.start();
        const done = async () => {
          for (let i = 0; i < 12; i++) {
            const o = JSON.parse((await repo.read('Observation', `loop-${i}`))!.json!) as Observation;
            if (!processingTags(o).ruleSet) return false;
          }
          return true;
        };
        // 13 events in batches of 5: two full batches run back to back, without the 60 s wait.
        const until = Date.now() + 20_000;
        while (!(await done()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        assert.equal(await done(), true, 'every result processed without waiting for the poll interval');
        // After the partial batch the loop waits: no poll that finds nothing right after it.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(empty, 0, `no empty poll after the partial batch (${polls} polls)`);
        assert.ok(polls >= 3, `three batches polled (${polls})`);
      } finally {
        await pipeline.stop();
        await repo.close();
      }
    });
  });
}
