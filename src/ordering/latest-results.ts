import type { Catalogue } from '../core/ordering/catalogue.ts';
import type { LatestResult } from '../core/ordering/types.ts';
import { OutboxConsumer, type OutboxEvent } from '../store/outbox.ts';
import { yieldToIo } from '../store/poll-loop.ts';
import type { FhirRepository, StoredVersion } from '../store/repository.ts';
import { coalesced } from './coalesce.ts';
import { latestResult } from './patient-context.ts';

type Obj = Record<string, unknown>;
const CONSUMER = 'ordering-latest-results';

/**
 * The latest result per (patient, catalogue test), kept in `ordering_latest_result` from the
 * store's outbox. A patient with 5,000 results costs one primary-key range read instead of a
 * sorted search per test. `catchUp()` applies every committed change before a read, so a result
 * committed before an evaluation starts is always seen (read-your-writes); concurrent callers
 * share one drain.
 */
export class LatestResults {
  private readonly repo: FhirRepository;
  private readonly catalogue: Catalogue;
  private readonly consumer: OutboxConsumer;
  /** Applies all committed Observation changes not yet projected; concurrent callers share a drain. */
  readonly catchUp: () => Promise<void> = coalesced(() => this.drain());

  constructor(repo: FhirRepository, catalogue: Catalogue) {
    this.repo = repo;
    this.catalogue = catalogue;
    this.consumer = new OutboxConsumer(repo.db, CONSUMER);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const events = await this.consumer.poll(1000);
      if (events.length === 0) return;
      // The last event per Observation, its versions read in one go (the state it leaves is
      // what the projection needs; a later version brings its own event).
      const last = new Map<string, OutboxEvent>();
      for (const e of events) if (e.type === 'Observation') last.set(e.id, e);
      const obs = [...last.values()];
      const versions = await this.repo.vreadMany(obs.filter((e) => e.interaction !== 'delete'));
      let at = 0;
      for (const e of obs) await this.apply(e.id, e.interaction === 'delete' ? undefined : versions[at++]);
      await this.consumer.ack(events[events.length - 1]!.seq);
      await yieldToIo();
    }
  }

  private async apply(id: string, v: StoredVersion | undefined): Promise<void> {
    const db = this.repo.db;
    const o = v?.json && !v.deleted ? (JSON.parse(v.json) as Obj) : undefined;
    const codings = ((o?.code as Obj | undefined)?.coding ?? []) as Obj[];
    const item = codings.map((c) => this.catalogue.byCoding(c.system as string, c.code as string)).find(Boolean);
    const patient = /^Patient\/(.+)$/.exec(String((o?.subject as Obj | undefined)?.reference ?? ''))?.[1];
    const at = Date.parse(
      String(o?.effectiveDateTime ?? (o?.effectivePeriod as Obj | undefined)?.start ?? o?.issued ?? ''),
    );
    const status = String(o?.status ?? '');
    if (!o || !item || !patient || Number.isNaN(at) || status === 'entered-in-error' || status === 'cancelled') {
      // Deleted, recoded or withdrawn: drop its row and recompute that (patient, test) from the store.
      const rows = await db.all<{ patient: string; test: string }>(
        'SELECT patient, test FROM ordering_latest_result WHERE observation_id = ?',
        [id],
      );
      for (const r of rows) {
        await db.run('DELETE FROM ordering_latest_result WHERE patient = ? AND test = ?', [r.patient, r.test]);
        const it = this.catalogue.item(r.test);
        const latest = it ? await latestResult(this.repo, it, r.patient) : undefined;
        if (latest) await this.upsert(r.patient, r.test, latest);
      }
      return;
    }
    const q = o.valueQuantity as Obj | undefined;
    await this.upsert(patient, item.id, {
      at,
      observationId: id,
      ...(typeof q?.value === 'number' ? { value: q.value } : {}),
      ...(typeof q?.unit === 'string' ? { unit: q.unit } : {}),
    });
  }

  private async upsert(patient: string, test: string, r: LatestResult): Promise<void> {
    await this.repo.db.run(
      `INSERT INTO ordering_latest_result (patient, test, at, value, unit, observation_id) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (patient, test) DO UPDATE SET at = excluded.at, value = excluded.value, unit = excluded.unit, observation_id = excluded.observation_id
       WHERE excluded.at >= ordering_latest_result.at OR ordering_latest_result.observation_id = excluded.observation_id`,
      [patient, test, r.at, r.value ?? null, r.unit ?? null, r.observationId],
    );
  }

  /** The projected latest result of every test of the patient (after catching up). */
  async forPatient(patientId: string): Promise<Map<string, LatestResult>> {
    await this.catchUp();
    const rows = await this.repo.db.all<{
      test: string;
      at: number;
      value: number | null;
      unit: string | null;
      observation_id: string;
    }>('SELECT test, at, value, unit, observation_id FROM ordering_latest_result WHERE patient = ?', [patientId]);
    return new Map(
      rows.map((r) => [
        r.test,
        {
          at: Number(r.at),
          observationId: r.observation_id,
          ...(r.value !== null ? { value: Number(r.value) } : {}),
          ...(r.unit !== null ? { unit: r.unit } : {}),
        },
      ]),
    );
  }
}
