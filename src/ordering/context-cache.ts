import type { FhirRepository } from '../store/repository.ts';
import { coalesced } from './coalesce.ts';
import type { PatientSnapshot } from './patient-context.ts';

/** Resource types a patient snapshot is built from; writes of other types never invalidate it. */
const WATCHED = new Set(['Patient', 'Observation', 'ServiceRequest', 'Condition']);
const BATCH = 1000;

interface OutboxRow {
  readonly seq: number;
  readonly type: string;
  readonly id: string;
  readonly patient: string | null;
}

/**
 * Patient snapshots (what the ordering rules read about a patient) kept in memory and kept
 * current from the store's outbox.
 *
 * Before every read the cache applies the outbox events committed since its last look — one
 * indexed `seq > position` query that returns nothing when nothing changed — and drops the
 * snapshot of every patient a watched write touched: the resource's stored patient key, plus any
 * snapshot built from that resource (a result moved to another patient, a deleted order). A read
 * therefore never serves data older than the last commit before it started (read-your-writes:
 * a caller that saw its write committed sees it in the next evaluation), and the cache works
 * across processes sharing one database because the outbox is the database's.
 *
 * A load that overlaps an invalidation of its patient is answered to the callers that were
 * already waiting for it (it started after their sync point) but is not kept, and later callers
 * start a fresh load. At most `capacity` patients are kept (least recently used evicted).
 */
export class PatientContextCache {
  private readonly repo: FhirRepository;
  private readonly capacity: number;
  private readonly onChanges: ((types: ReadonlySet<string>) => void) | undefined;
  private readonly entries = new Map<string, PatientSnapshot>();
  /** `Type/id` → patients whose cached snapshot was built from it. */
  private readonly byResource = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Promise<PatientSnapshot>>();
  private position: number | undefined;
  /** Applies committed outbox events not yet seen; concurrent callers share one pass. */
  readonly sync: () => Promise<void> = coalesced(() => this.drain());

  constructor(
    repo: FhirRepository,
    opts: { capacity?: number; onChanges?: (types: ReadonlySet<string>) => void } = {},
  ) {
    this.repo = repo;
    this.capacity = opts.capacity ?? 10_000;
    this.onChanges = opts.onChanges;
  }

  /** Cached patients (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** The current snapshot of a patient: from memory when no committed write touched it, else `load`. */
  async get(patientId: string, load: () => Promise<PatientSnapshot>): Promise<PatientSnapshot> {
    await this.sync();
    const hit = this.entries.get(patientId);
    if (hit) {
      // Most recently used last.
      this.entries.delete(patientId);
      this.entries.set(patientId, hit);
      return hit;
    }
    const pending = this.loading.get(patientId);
    if (pending) return pending;
    const p = load().then(
      (snap) => {
        // Still ours: no invalidation of this patient since the load started.
        if (this.loading.get(patientId) === p) {
          this.loading.delete(patientId);
          this.keep(snap);
        }
        return snap;
      },
      (e: unknown) => {
        if (this.loading.get(patientId) === p) this.loading.delete(patientId);
        throw e;
      },
    );
    this.loading.set(patientId, p);
    return p;
  }

  private keep(snap: PatientSnapshot): void {
    this.entries.set(snap.patientId, snap);
    for (const r of snap.resources) {
      const set = this.byResource.get(r) ?? new Set<string>();
      set.add(snap.patientId);
      this.byResource.set(r, set);
    }
    while (this.entries.size > this.capacity) this.invalidate(this.entries.keys().next().value!);
  }

  private invalidate(patientId: string): void {
    this.loading.delete(patientId);
    const snap = this.entries.get(patientId);
    if (!snap) return;
    this.entries.delete(patientId);
    for (const r of snap.resources) {
      const set = this.byResource.get(r);
      set?.delete(patientId);
      if (set?.size === 0) this.byResource.delete(r);
    }
  }

  private async drain(): Promise<void> {
    const db = this.repo.db;
    if (this.position === undefined) {
      // Nothing is cached yet: start from the current end of the outbox.
      const [row] = await db.all<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM outbox', []);
      this.position = Number(row?.seq ?? 0);
      return;
    }
    const types = new Set<string>();
    for (;;) {
      const rows: OutboxRow[] = await db.all<OutboxRow>(
        'SELECT o.seq, r.type, r.id, r.patient FROM outbox o JOIN resource r ON r.rid = o.rid WHERE o.seq > ? ORDER BY o.seq LIMIT ?',
        [this.position, BATCH],
      );
      for (const r of rows) {
        if (!WATCHED.has(r.type)) continue;
        types.add(r.type);
        if (r.patient) this.invalidate(r.patient);
        if (r.type === 'Patient') this.invalidate(r.id);
        for (const p of [...(this.byResource.get(`${r.type}/${r.id}`) ?? [])]) this.invalidate(p);
      }
      if (rows.length > 0) this.position = Number(rows[rows.length - 1]!.seq);
      if (rows.length < BATCH) break;
    }
    if (types.size > 0) this.onChanges?.(types);
  }
}
