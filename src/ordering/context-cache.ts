import type { CommittedChange, FhirRepository } from '../store/repository.ts';
import { coalesced } from './coalesce.ts';
import type { PatientSnapshot } from './patient-context.ts';

/** Resource types a patient snapshot is built from; writes of other types never invalidate it. */
const WATCHED = new Set(['Patient', 'Observation', 'ServiceRequest', 'Condition']);
const BATCH = 1000;
/** Local versions remembered until the outbox poll passes them (bounded: forgetting one only costs a reload). */
const MAX_LOCAL = 100_000;

interface OutboxRow {
  readonly seq: number;
  readonly version: number;
  readonly type: string;
  readonly id: string;
  readonly patient: string | null;
}

/** How often other processes' writes are looked for in the outbox, by default (milliseconds). */
export const DEFAULT_REMOTE_POLL_MS = 100;

/**
 * Patient snapshots (what the ordering rules read about a patient) kept in memory and kept
 * current from two sources (docs/ordering-performance.md):
 *
 * - **Writes of this process** (everything written through the same {@link FhirRepository}): the
 *   repository reports each committed transaction's versions ({@link FhirRepository.onCommit})
 *   before the writer resumes, and the snapshot of every patient they touch is dropped then. An
 *   evaluation that starts after a write of this process committed therefore never sees a
 *   snapshot older than that write, and costs no database round trip when nothing changed.
 * - **Writes of other processes** on the same database: an outbox poll (`seq > position`, one
 *   indexed query that returns nothing when nothing changed) every `remotePollMs` while the cache
 *   is in use, and on {@link sync}. Such a write is reflected at the latest one poll interval plus
 *   one query after its commit.
 *
 * A write drops the snapshot of the resource's stored patient key and of every patient whose
 * snapshot was built from that resource (a result moved to another patient, a deleted order).
 * A load that overlaps an invalidation of its patient is answered to the callers that were
 * already waiting for it but is not kept; later callers start a fresh load. At most `capacity`
 * patients are kept (least recently used evicted).
 */
export class PatientContextCache {
  private readonly repo: FhirRepository;
  private readonly capacity: number;
  private readonly remotePollMs: number;
  private readonly onChanges: ((types: ReadonlySet<string>) => void) | undefined;
  private readonly entries = new Map<string, PatientSnapshot>();
  /** `Type/id` → patients whose cached snapshot was built from it. */
  private readonly byResource = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Promise<PatientSnapshot>>();
  /** `Type/id/version` of this process's writes the outbox poll has not passed yet (already applied). */
  private readonly local = new Set<string>();
  private readonly unsubscribe: () => void;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private position: number | undefined;
  /** Outbox polls run (for tests and metrics). */
  polls = 0;
  /**
   * Applies other processes' committed writes not yet seen (one outbox query); concurrent callers
   * share one pass, which starts after the call (whatever was committed before it is seen).
   */
  readonly sync: () => Promise<void> = coalesced(() => this.drain());

  constructor(
    repo: FhirRepository,
    opts: { capacity?: number; remotePollMs?: number; onChanges?: (types: ReadonlySet<string>) => void } = {},
  ) {
    this.repo = repo;
    this.capacity = opts.capacity ?? 10_000;
    this.remotePollMs = opts.remotePollMs ?? DEFAULT_REMOTE_POLL_MS;
    this.onChanges = opts.onChanges;
    this.unsubscribe = repo.onCommit((changes) => this.applyLocal(changes));
  }

  /** Cached patients (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Whether a current snapshot of the patient is held. A snapshot is only built for a Patient that
   * exists and is not deleted, and a write of the Patient drops it (this process's at once, another
   * process's within one poll), so a held snapshot is as good as reading the Patient now.
   */
  has(patientId: string): boolean {
    return this.entries.has(patientId);
  }

  /** The current snapshot of a patient: from memory when no committed write touched it, else `load`. */
  async get(patientId: string, load: () => Promise<PatientSnapshot>): Promise<PatientSnapshot> {
    // The first use fixes the outbox position before anything is loaded, so that no other
    // process's write between a load and the first poll can be missed.
    if (this.position === undefined) await this.sync();
    this.schedule();
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

  /** Stops the outbox poll and the commit subscription. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe();
  }

  /** Polls the outbox every `remotePollMs` while the cache holds or loads something. */
  private schedule(): void {
    if (this.timer || this.closed || this.remotePollMs <= 0) return;
    this.timer = setTimeout(() => {
      this.sync().then(
        () => this.reschedule(),
        () => this.reschedule(),
      );
    }, this.remotePollMs);
    // A poll never keeps a process alive.
    this.timer.unref();
  }

  private reschedule(): void {
    this.timer = undefined;
    if (this.entries.size > 0 || this.loading.size > 0) this.schedule();
    else {
      // Idle: nothing to keep current. The next use fixes a new position first (as the first use
      // does), so neither a backlog of events nor this process's versions pile up meanwhile.
      this.position = undefined;
      this.local.clear();
    }
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

  /** Drops what one written version touches: its patient, the patient itself, snapshots built from it. */
  private touch(type: string, id: string, patient: string | null): void {
    if (patient) this.invalidate(patient);
    if (type === 'Patient') this.invalidate(id);
    const from = this.byResource.get(`${type}/${id}`);
    if (from) for (const p of [...from]) this.invalidate(p);
  }

  private applyLocal(changes: readonly CommittedChange[]): void {
    const types = new Set<string>();
    for (const c of changes) {
      if (!WATCHED.has(c.type)) continue;
      types.add(c.type);
      this.touch(c.type, c.id, c.patient);
      // Before the first poll the position is not fixed yet: that poll starts after this write.
      if (this.position !== undefined) this.local.add(`${c.type}/${c.id}/${c.version}`);
    }
    if (this.local.size > MAX_LOCAL) this.local.clear();
    if (types.size > 0) this.onChanges?.(types);
  }

  private async drain(): Promise<void> {
    this.polls++;
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
        'SELECT o.seq, o.version, r.type, r.id, r.patient FROM outbox o JOIN resource r ON r.rid = o.rid WHERE o.seq > ? ORDER BY o.seq LIMIT ?',
        [this.position, BATCH],
      );
      for (const r of rows) {
        if (!WATCHED.has(r.type)) continue;
        // This process's own write: applied when it committed.
        if (this.local.delete(`${r.type}/${r.id}/${Number(r.version)}`)) continue;
        types.add(r.type);
        this.touch(r.type, r.id, r.patient);
      }
      if (rows.length > 0) this.position = Number(rows[rows.length - 1]!.seq);
      if (rows.length < BATCH) break;
    }
    if (types.size > 0) this.onChanges?.(types);
  }
}
