import type { Catalogue } from '../core/ordering/catalogue.ts';
import type { LatestResult } from '../core/ordering/types.ts';
import type { SqlExecutor } from '../store/dialect/dialect.ts';
import { multiRowStatement, paddedKeys, placeholders } from '../store/multi-row.ts';
import { OutboxConsumer, type OutboxEvent } from '../store/outbox.ts';
import { yieldToIo } from '../store/poll-loop.ts';
import type { FhirRepository, StoredVersion } from '../store/repository.ts';
import { coalesced } from './coalesce.ts';
import { latestResult } from './patient-context.ts';

type Obj = Record<string, unknown>;
const CONSUMER = 'ordering-latest-results';

type ProjectionOp =
  | { readonly kind: 'upsert'; readonly patient: string; readonly test: string; readonly result: LatestResult }
  | { readonly kind: 'delete'; readonly patient: string; readonly test: string };

const UPSERT_SET = `ON CONFLICT (patient, test) DO UPDATE SET at = excluded.at, value = excluded.value, unit = excluded.unit, observation_id = excluded.observation_id
       WHERE excluded.at >= ordering_latest_result.at OR ordering_latest_result.observation_id = excluded.observation_id`;

/** Keeps the newer result of each (patient, test); the same Observation always replaces its row. */
const upsertRows = multiRowStatement(
  (values) => `INSERT INTO ordering_latest_result (patient, test, at, value, unit, observation_id) VALUES ${values}
       ${UPSERT_SET}`,
  6,
  64,
);

/**
 * PostgreSQL: a round's upserts in one statement, whatever their number (one array per column),
 * instead of a multi-row `VALUES` per power of two (7 rows were 3 statements, 3 round trips).
 */
const UPSERT_UNNEST = `INSERT INTO ordering_latest_result (patient, test, at, value, unit, observation_id)
       SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[], ?::double precision[], ?::text[], ?::text[]) ${UPSERT_SET}`;

async function upsert(tx: SqlExecutor, rows: readonly (readonly unknown[])[], postgres: boolean): Promise<void> {
  if (rows.length === 0) return;
  if (!postgres) return upsertRows(tx, rows);
  const cols: unknown[][] = [[], [], [], [], [], []];
  for (const r of rows) for (let i = 0; i < 6; i++) cols[i]!.push(r[i]);
  await tx.run(UPSERT_UNNEST, cols);
}

/**
 * Applies projection changes in order. Each upsert keeps the newer result of a (patient, test);
 * the same Observation always replaces its row. Changes are written a round at a time, a round
 * holding at most one change per (patient, test) (an upsert may not touch a row twice): one
 * statement per round and kind instead of one per change (a round trip each on PostgreSQL).
 */
async function apply(tx: SqlExecutor, ops: readonly ProjectionOp[], postgres: boolean): Promise<void> {
  const rounds: ProjectionOp[][] = [];
  const seen = new Map<string, number>();
  for (const op of ops) {
    const key = `${op.patient}\u0000${op.test}`;
    const r = seen.get(key) ?? 0;
    seen.set(key, r + 1);
    if (r === rounds.length) rounds.push([]);
    rounds[r]!.push(op);
  }
  for (const round of rounds) {
    const deletes = round.filter((op) => op.kind === 'delete').map((op) => [op.patient, op.test]);
    await tx.deleteMany('ordering_latest_result', ['patient', 'test'], ['text', 'text'], deletes);
    const upserts = round.flatMap((op) =>
      op.kind === 'upsert'
        ? [
            [
              op.patient,
              op.test,
              op.result.at,
              op.result.value ?? null,
              op.result.unit ?? null,
              op.result.observationId,
            ],
          ]
        : [],
    );
    await upsert(tx, upserts, postgres);
  }
}

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
      // Reads first (committed data; a later change comes as a later event), then every change
      // of the batch and the position in one transaction: one commit per batch, exactly once.
      // The batch's Observations are read in one go, each at its last version in the batch.
      const last = new Map<string, OutboxEvent>();
      for (const e of events) if (e.type === 'Observation') last.set(e.id, e);
      const keys = [...last.values()].filter((e) => e.interaction !== 'delete');
      const read = await this.repo.vreadMany(keys);
      const versions = new Map(keys.map((e, i) => [e.id, read[i]]));
      const planned = events
        .filter((e) => e.type === 'Observation')
        .map((e) => ({ e, upsert: this.project(e.id, e.interaction === 'delete' ? undefined : versions.get(e.id)) }));
      // The rows of the withdrawn ones, in one read. A first version (a create) has none yet.
      const stored = await this.rowsOf(
        planned.filter((p) => !p.upsert && !(p.e.version === 1 && p.e.interaction === 'create')).map((p) => p.e.id),
      );
      const ops: ProjectionOp[] = [];
      for (const p of planned)
        ops.push(...(p.upsert ? [p.upsert] : await this.withdraw(p.e.id, stored.get(p.e.id) ?? [], ops)));
      await this.repo.db.transaction(async (tx) => {
        // The position first: on PostgreSQL it goes out with BEGIN, in one round trip.
        await this.consumer.ack(events[events.length - 1]!.seq, tx);
        await apply(tx, ops, this.repo.db.caps.name === 'postgres');
      });
      await yieldToIo();
    }
  }

  /** The projection row of an Observation version, or undefined when it has none (deleted, recoded, withdrawn). */
  private project(id: string, v: StoredVersion | undefined): ProjectionOp | undefined {
    const o = v?.json && !v.deleted ? (JSON.parse(v.json) as Obj) : undefined;
    const codings = ((o?.code as Obj | undefined)?.coding ?? []) as Obj[];
    const item = codings.map((c) => this.catalogue.byCoding(c.system as string, c.code as string)).find(Boolean);
    const patient = /^Patient\/(.+)$/.exec(String((o?.subject as Obj | undefined)?.reference ?? ''))?.[1];
    const at = Date.parse(
      String(o?.effectiveDateTime ?? (o?.effectivePeriod as Obj | undefined)?.start ?? o?.issued ?? ''),
    );
    const status = String(o?.status ?? '');
    if (!o || !item || !patient || Number.isNaN(at) || status === 'entered-in-error' || status === 'cancelled')
      return undefined;
    const q = o.valueQuantity as Obj | undefined;
    return {
      kind: 'upsert',
      patient,
      test: item.id,
      result: {
        at,
        observationId: id,
        ...(typeof q?.value === 'number' ? { value: q.value } : {}),
        ...(typeof q?.unit === 'string' ? { unit: q.unit } : {}),
      },
    };
  }

  /** The stored projection rows of these Observations, by Observation id (one statement per 500 ids). */
  private async rowsOf(ids: readonly string[]): Promise<Map<string, { patient: string; test: string }[]>> {
    const byId = new Map<string, { patient: string; test: string }[]>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = paddedKeys(ids.slice(i, i + 500));
      const rows = await this.repo.db.all<{ observation_id: string; patient: string; test: string }>(
        `SELECT observation_id, patient, test FROM ordering_latest_result WHERE observation_id IN (${placeholders(chunk.length)})`,
        chunk,
      );
      for (const r of rows) byId.set(r.observation_id, [...(byId.get(r.observation_id) ?? []), r]);
    }
    return byId;
  }

  /**
   * A deleted, recoded or withdrawn Observation: drop its rows (stored, or written earlier in this
   * batch: `pending`) and recompute each (patient, test) from the store.
   */
  private async withdraw(
    id: string,
    stored: readonly { patient: string; test: string }[],
    pending: readonly ProjectionOp[],
  ): Promise<ProjectionOp[]> {
    // Rows this batch has yet to write count too (a result projected and withdrawn in one batch).
    const rows = new Map(stored.map((r) => [`${r.patient}|${r.test}`, r]));
    for (const op of pending)
      if (op.kind === 'upsert' && op.result.observationId === id) rows.set(`${op.patient}|${op.test}`, op);
    const ops: ProjectionOp[] = [];
    for (const r of rows.values()) {
      ops.push({ kind: 'delete', patient: r.patient, test: r.test });
      const it = this.catalogue.item(r.test);
      const latest = it ? await latestResult(this.repo, it, r.patient) : undefined;
      if (latest) ops.push({ kind: 'upsert', patient: r.patient, test: r.test, result: latest });
    }
    return ops;
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
