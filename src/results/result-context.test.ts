import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import { CODES, RULE_SET_2026_11 } from '../core/results/index.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import { ResultContext } from './result-context.ts';

const T0 = Date.parse('2026-11-29T08:00:00Z');
const H = 3_600_000;

/**
 * The batch prefetch answers `history` from a pool: it must give exactly what the search gives
 * (same results, same order, same date conditions), so that delta checks and derived values do
 * not change when a batch is prefetched.
 */
for (const dialect of await testDialects()) {
  describe(`result context prefetch (${dialect})`, () => {
    let repo: FhirRepository;
    const observations: Observation[] = [];
    before(async () => {
      repo = await freshRepo(dialect);
      let n = 0;
      const add = (patient: string, code: { system: string; code: string }, at: string, status = 'final') => {
        const o = {
          resourceType: 'Observation',
          id: `h${++n}`,
          status,
          code: { coding: [code] },
          subject: { reference: `Patient/${patient}` },
          specimen: { reference: `Specimen/${patient}-${at.slice(0, 13)}` },
          effectiveDateTime: at,
          valueQuantity: { value: 4 + n / 10, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        } as Resource;
        observations.push(o as unknown as Observation);
        return o;
      };
      const rows: Resource[] = [];
      for (const p of ['a', 'b']) {
        for (let i = 0; i < 12; i++) rows.push(add(p, CODES.sodium, new Date(T0 - i * 9 * H).toISOString()));
        // Same time as another (order by row id), a date-only one, a voided one, other analyses.
        rows.push(add(p, CODES.sodium, new Date(T0 - 18 * H).toISOString()));
        rows.push(add(p, CODES.sodium, '2026-11-27'));
        rows.push(add(p, CODES.sodium, new Date(T0 - 27 * H).toISOString(), 'entered-in-error'));
        rows.push(add(p, CODES.potassium, new Date(T0 - 3 * H).toISOString()));
        rows.push(add(p, CODES.alt, new Date(T0 - 1 * H).toISOString()));
        rows.push(add(p, CODES.ast, new Date(T0 - 20 * H).toISOString()));
      }
      await repo.transaction(async (w) => {
        for (const r of rows) await repo.put(w, r);
      });
    });
    after(async () => {
      await repo.close();
    });

    it('history from the pool equals the search, for every look-back the rules make', async () => {
      const pooled = new ResultContext(repo);
      await pooled.prefetch(observations, RULE_SET_2026_11);
      const ids = (os: Observation[]) => os.map((o) => o.id);
      let compared = 0;
      for (const p of ['Patient/a', 'Patient/b']) {
        for (const code of [CODES.sodium, CODES.potassium, CODES.ast]) {
          for (const before of [T0 + 1, T0, T0 - 18 * H, T0 - 18 * H + 1, Date.parse('2026-11-27T12:00:00Z')]) {
            for (const window of [24, 72, 168]) {
              for (const count of [1, 3, 5]) {
                const after = before - window * H;
                const plain = await new ResultContext(repo).history(p, code, before, after, count);
                assert.deepEqual(
                  ids(await pooled.history(p, code, before, after, count)),
                  ids(plain),
                  `${p} ${code.code} before ${new Date(before).toISOString()} window ${window} h count ${count}`,
                );
                compared += plain.length;
              }
            }
          }
        }
      }
      assert.ok(compared > 100, 'the comparison saw results');
    });

    it('a pool larger than its bound is not kept, and history still equals the search', async () => {
      const small = new ResultContext(repo, { poolMax: 5 });
      await small.prefetch(observations, RULE_SET_2026_11);
      assert.equal(small.pooled, false);
      const full = new ResultContext(repo);
      await full.prefetch(observations, RULE_SET_2026_11);
      assert.equal(full.pooled, true);
      const ids = (os: Observation[]) => os.map((o) => o.id);
      const before = T0 + 1;
      const after = before - 72 * H;
      const plain = await new ResultContext(repo).history('Patient/a', CODES.sodium, before, after, 5);
      assert.ok(plain.length > 0);
      assert.deepEqual(ids(await small.history('Patient/a', CODES.sodium, before, after, 5)), ids(plain));
    });

    it('a pool that stops at the newest results answers history exactly, and searches for the rest', async () => {
      // Patient c: a sodium every 10 minutes for 50 hours (an ICU patient); the batch holds the
      // newest two. The pool reads only the newest page, not the whole 72-hour window.
      const rows: Resource[] = [];
      for (let i = 0; i < 300; i++)
        rows.push({
          resourceType: 'Observation',
          id: `c${i}`,
          status: i % 37 === 5 ? 'entered-in-error' : 'final',
          code: { coding: [CODES.sodium] },
          subject: { reference: 'Patient/c' },
          effectiveDateTime: new Date(T0 - i * 600_000).toISOString(),
          valueQuantity: { value: 140, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        } as Resource);
      await repo.transaction(async (w) => {
        for (const r of rows) await repo.put(w, r);
      });
      const batch = rows.slice(0, 2) as unknown as Observation[];
      const pooled = new ResultContext(repo);
      await pooled.prefetch(batch, RULE_SET_2026_11);
      assert.equal(pooled.pooled, true);
      assert.equal(pooled.poolComplete, false, 'the pool stopped before the end of the window');
      const ids = (os: Observation[]) => os.map((o) => o.id);
      let compared = 0;
      for (const before of [T0 + 1, T0, T0 - 600_000, T0 - 30 * 600_000, T0 - 250 * 600_000, T0 - 299 * 600_000]) {
        for (const window of [1, 24, 72]) {
          for (const count of [1, 3, 5, 40]) {
            const after = before - window * H;
            const plain = await new ResultContext(repo).history('Patient/c', CODES.sodium, before, after, count);
            assert.deepEqual(
              ids(await pooled.history('Patient/c', CODES.sodium, before, after, count)),
              ids(plain),
              `before ${new Date(before).toISOString()} window ${window} h count ${count}`,
            );
            compared += plain.length;
          }
        }
      }
      assert.ok(compared > 100, 'the comparison saw results');
      for (const o of batch) {
        const analysis = RULE_SET_2026_11.analyses.find((a) => a.code.code === CODES.sodium.code)!;
        const at = Date.parse(o.effectiveDateTime!);
        assert.deepEqual(
          await pooled.previous(o, analysis, at),
          await new ResultContext(repo).previous(o, analysis, at),
        );
      }
    });

    it('the previous result for a delta check is the same with and without the pool', async () => {
      const analysis = RULE_SET_2026_11.analyses.find((a) => a.code.code === CODES.sodium.code)!;
      assert.ok(analysis.delta, 'sodium has a delta rule');
      const pooled = new ResultContext(repo);
      await pooled.prefetch(observations, RULE_SET_2026_11);
      for (const o of observations.filter((x) => x.code.coding?.[0]?.code === CODES.sodium.code)) {
        const at = Date.parse(o.effectiveDateTime!);
        assert.deepEqual(
          await pooled.previous(o, analysis, at),
          await new ResultContext(repo).previous(o, analysis, at),
        );
      }
    });
  });
}
