import { EventEmitter } from 'node:events';
import type { OrganisationDirectory } from '../access/access-control.ts';
import { factsOf, type OpsFact, type OrderDims, type OrgRef } from '../core/operations/stage-facts.ts';
import { OutboxConsumer, type OutboxEvent } from '../store/outbox.ts';
import { PollLoop } from '../store/poll-loop.ts';
import type { FhirRepository } from '../store/repository.ts';
import { BottleneckMonitor } from './bottleneck-monitor.ts';
import { IndicatorCache } from './indicator-queries.ts';
import { IndicatorState, type OpsInput } from './indicator-state.ts';
import { DEFAULT_OPERATIONS_CONFIG, type OperationsConfig } from './operations-config.ts';

/** Resource types whose changes move an order along (the rest are skipped without a read). */
const RELEVANT = new Set([
  'ServiceRequest',
  'Specimen',
  'Task',
  'Appointment',
  'Observation',
  'DiagnosticReport',
  'ImagingStudy',
  'CommunicationRequest',
  'Communication',
]);

export const OPERATIONS_CONSUMER = 'operations';
/** Outbox events applied per transaction. */
const OPERATIONS_BATCH = 500;

/** Options of {@link OperationsService}. */
export interface OperationsOptions {
  readonly repo: FhirRepository;
  /** The organisation tree (SOR codes with `partOf`), e.g. `Access.facts.directory()`. */
  readonly directory: () => Promise<OrganisationDirectory>;
  readonly config?: OperationsConfig;
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
  /** Idle wait between polls (ms, default 100). */
  readonly pollMs?: number;
  readonly batch?: number;
}

/**
 * Management information kept up to date from the outbox: each committed change of an order's
 * resources becomes facts (stage reached, specimen rejected, result autoverified…), applied to the
 * indicator state in one transaction with the consumer position; a clock-driven tick runs the
 * bottleneck detector. Emits `applied` (events, lag in s) and `alert` for live subscribers.
 */
export class OperationsService extends EventEmitter {
  readonly repo: FhirRepository;
  readonly state: IndicatorState;
  readonly monitor: BottleneckMonitor;
  /** Roll-ups of ended days and months for the dashboard queries (see IndicatorCache). */
  readonly cache = new IndicatorCache();
  readonly consumer: OutboxConsumer;
  readonly #opts: OperationsOptions;
  readonly now: () => number;
  #config: OperationsConfig;
  readonly #poller: PollLoop;
  #lastTick = 0;

  constructor(opts: OperationsOptions) {
    super();
    this.#opts = opts;
    this.repo = opts.repo;
    this.now = opts.now ?? Date.now;
    this.#config = opts.config ?? DEFAULT_OPERATIONS_CONFIG;
    this.state = new IndicatorState(opts.repo.db, this.#config);
    this.monitor = new BottleneckMonitor(opts.repo.db, () => this.#config);
    this.state.onStageMove = (m) => this.monitor.move(m);
    this.monitor.onAlert = (a, change) => this.emit('alert', a, change);
    this.consumer = new OutboxConsumer(opts.repo.db, OPERATIONS_CONSUMER);
    this.#poller = new PollLoop(
      async () => (await this.runOnce()) >= (opts.batch ?? OPERATIONS_BATCH),
      opts.pollMs ?? 100,
      opts.onError,
    );
  }

  get config(): OperationsConfig {
    return this.#config;
  }

  directory(): Promise<OrganisationDirectory> {
    return this.#opts.directory();
  }

  /**
   * The facts new in each event's version (relative to the version before it), for a whole batch:
   * the versions are read with two statements per batch (`vreadMany`), not one or two per event.
   */
  async #factsOfBatch(events: readonly OutboxEvent[]): Promise<OpsFact[]> {
    const relevant = events.filter((e) => e.interaction !== 'delete' && RELEVANT.has(e.type));
    const curs = await this.repo.vreadMany(relevant);
    const perEvent: OpsFact[][] = [];
    const prevKeys: { type: string; id: string; version: number }[] = [];
    const prevOf: number[] = [];
    relevant.forEach((e, i) => {
      const cur = curs[i];
      const facts = cur?.json && !cur.deleted ? factsOf(JSON.parse(cur.json), cur.lastUpdated) : [];
      perEvent.push(facts);
      if (facts.length > 0 && e.version > 1) {
        prevOf.push(i);
        prevKeys.push({ type: e.type, id: e.id, version: e.version - 1 });
      }
    });
    const prevs = await this.repo.vreadMany(prevKeys);
    prevs.forEach((prev, j) => {
      if (!prev?.json || prev.deleted) return;
      const i = prevOf[j]!;
      const before = new Set(factsOf(JSON.parse(prev.json), prev.lastUpdated).map((f) => f.id));
      perEvent[i] = perEvent[i]!.filter((f) => !before.has(f.id));
    });
    return perEvent.flat();
  }

  /** Organisation references → SOR codes (unresolvable ones keep their reference text). */
  async resolve(facts: readonly OpsFact[]): Promise<OpsInput[]> {
    const dir = await this.directory();
    const cache = new Map<string, string>();
    const code = async (ref: OrgRef | undefined): Promise<string | undefined> => {
      if (!ref) return undefined;
      const k = JSON.stringify(ref);
      if (!cache.has(k))
        cache.set(k, (await dir.codeOf(ref, this.repo)) ?? ref.reference ?? ref.identifier?.value ?? '');
      return cache.get(k) || undefined;
    };
    const out: OpsInput[] = [];
    for (const f of facts) {
      const d: OrderDims = f.dims;
      const dims = { ...d, section: await code(d.section), department: await code(d.department) };
      out.push({ ...f, dims } as OpsInput);
    }
    return out;
  }

  /** Applies one batch from the outbox; returns the number of events consumed (0 when idle). */
  async runOnce(limit = this.#opts.batch ?? OPERATIONS_BATCH): Promise<number> {
    const from = await this.consumer.position();
    const events = await this.consumer.pollAfter(from, limit);
    if (events.length > 0) {
      const facts = await this.#factsOfBatch(events);
      const applied = await this.state.apply(await this.resolve(facts), {
        consumer: this.consumer,
        from,
        to: events[events.length - 1]!.seq,
      });
      if (applied) this.emit('applied', events, this.now());
    }
    await this.maybeTick();
    return events.length;
  }

  /** Runs the bottleneck detector when a tick is due by the clock. */
  async maybeTick(): Promise<void> {
    const now = this.now();
    if (now - this.#lastTick < this.#config.tickMs) return;
    this.#lastTick = now;
    await this.monitor.tick(now);
  }

  /** Starts consuming (`dxhub serve`). */
  start(): void {
    this.#poller.start();
  }

  stop(): Promise<void> {
    return this.#poller.stop();
  }

  /**
   * Recomputes everything from the stored history (`dxhub ops rebuild`): the state is emptied and
   * every outbox event replayed through the same incremental path. Returns the events replayed.
   */
  async rebuild(onProgress?: (done: number, total: number) => void): Promise<number> {
    await this.state.reset(this.consumer);
    this.monitor.reset();
    const head = await this.repo.db.all<{ m: number | string | null }>('SELECT MAX(seq) AS m FROM outbox');
    const total = Number(head[0]?.m ?? 0);
    let done = 0;
    for (;;) {
      const n = await this.runOnce(2000);
      if (n === 0) break;
      done = await this.consumer.position();
      onProgress?.(done, total);
    }
    return done;
  }
}
