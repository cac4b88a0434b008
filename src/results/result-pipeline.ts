import type { DiagnosticReport, Observation, ServiceRequest } from '@medplum/fhirtypes';
import { FhirError } from '../core/fhir/errors.ts';
import {
  autoverify,
  type Evaluation,
  findAnalysis,
  INTERPRETATION_SYSTEM,
  INTERPRETATION_TEXT,
  interpretWithLikelihood,
  intervalText,
  RULE_SET_2026_11,
  type RuleSet,
  reflexesFor,
} from '../core/results/index.ts';
import { OutboxConsumer, type OutboxEvent } from '../store/outbox.ts';
import { PollLoop } from '../store/poll-loop.ts';
import type { FhirRepository, Resource, WriteContext, WriteInterceptor } from '../store/repository.ts';
import { type OutcomeRow, recordOutcomes } from './autoverification-rate.ts';
import { criticalResources, escalateUnacknowledged, orderingOrganization } from './critical-values.ts';
import { derivedObservations } from './derived-results.ts';
import { incidentalTask, isIncidental } from './incidental-findings.ts';
import { ResultContext } from './result-context.ts';
import { codesOf, DERIVED_TAG_SYSTEM, EXT, processingTags, resultFacts, withTags } from './result-facts.ts';
import { asResource, openReview, reviewTask, verificationProvenance } from './review-worklist.ts';

/** Options of {@link ResultPipeline}. */
export interface ResultPipelineOptions {
  readonly repo: FhirRepository;
  readonly rules?: RuleSet;
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
  /** Idle wait between rounds, ms (default 100). */
  readonly pollMs?: number;
  /** Outbox events per round and transaction (default 200). */
  readonly batch?: number;
  /** How often the running pipeline looks for unacknowledged critical values to escalate, ms (default 60 s). */
  readonly escalationCheckMs?: number;
}

/** One write of a plan: `ifMatch` guards the processed Observation; `ifAbsent` keeps an existing side resource. */
interface PlannedWrite {
  readonly resource: Resource;
  readonly ifMatch?: number;
  readonly ifAbsent?: boolean;
}
interface Plan {
  readonly writes: PlannedWrite[];
  readonly outcome?: OutcomeRow;
  /** The version this plan autoverifies (`Observation/id/_history/n`), for the batch's Provenance. */
  readonly autoverified?: string;
}

const UNVERIFIED = new Set(['registered', 'preliminary', 'unknown']);
const VOID = new Set(['cancelled', 'entered-in-error']);
const LAB = 'laboratory';

/** Why the pipeline leaves an Observation alone (undefined: it processes it). */
function skipReason(o: Observation): string | undefined {
  if (VOID.has(o.status)) return 'void';
  if (processingTags(o).ruleSet) return 'processed';
  if (o.meta?.tag?.some((t) => t.system === DERIVED_TAG_SYSTEM)) return 'derived';
  const cats = (o.category ?? []).flatMap((c) => c.coding ?? []).map((c) => c.code);
  if (cats.length > 0 && !cats.includes(LAB)) return 'not laboratory';
  if (o.hasMember && o.valueQuantity === undefined) return 'panel';
  return undefined;
}

/** The pre-test probability the requisition gives for a condition (extension on the ServiceRequest). */
function preTestProbabilities(sr: ServiceRequest | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of sr?.extension ?? []) {
    if (e.url !== EXT.preTestProbability) continue;
    const condition = e.extension?.find((x) => x.url === 'condition')?.valueCode;
    const p = e.extension?.find((x) => x.url === 'probability')?.valueDecimal;
    if (condition && typeof p === 'number') out.set(condition, p);
  }
  return out;
}

/**
 * The result pipeline: a durable outbox consumer ('result-pipeline') that passes every created or
 * updated laboratory Observation through the rule set once — whether it came from HL7/ASTM
 * ingestion, the FHIR API or an analyzer. Results arriving unverified are autoverified (final, tag
 * `autoverified`, Provenance naming the rule-set version) or held (preliminary, tag `held`, a review
 * Task with the reasons); results arriving final get interpretation and reference range when
 * missing. All get critical-value Flags/CommunicationRequests, derived values, reflex orders,
 * likelihood-ratio interpretation and incidental-finding Tasks. The pipeline's own writes carry the
 * rule-set tag and are skipped, so it never loops; side resources have derived ids, so a redelivered
 * batch writes nothing new. One transaction per batch (per result when a batch fails).
 */
export class ResultPipeline {
  readonly rules: RuleSet;
  readonly consumer: OutboxConsumer;
  private readonly opts: ResultPipelineOptions;
  private readonly poller: PollLoop;
  private lastEscalation = 0;

  constructor(opts: ResultPipelineOptions) {
    this.opts = opts;
    this.poller = new PollLoop(() => this.step(), opts.pollMs ?? 100, opts.onError);
    this.rules = opts.rules ?? RULE_SET_2026_11;
    this.consumer = new OutboxConsumer(opts.repo.db, 'result-pipeline');
  }

  now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private get repo(): FhirRepository {
    return this.opts.repo;
  }

  /** One round: processes up to one batch of outbox events. */
  async runOnce(): Promise<{ events: number; processed: number }> {
    const events = await this.consumer.poll(this.batchSize);
    if (events.length === 0) return { events: 0, processed: 0 };
    const plans = await this.plan(events);
    const seq = events[events.length - 1]!.seq;
    // The position commits with the batch's writes when they go in one transaction (exactly once);
    // after the per-result fallback it is acknowledged on its own (at least once: redelivery writes nothing new).
    if (!(await this.apply(plans, seq))) await this.consumer.ack(seq);
    return { events: events.length, processed: plans.length };
  }

  /** Runs rounds until the outbox is drained (tests, CLI). */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      const r = await this.runOnce();
      if (r.events === 0) return n;
      n += r.processed;
    }
  }

  private async plan(events: readonly OutboxEvent[]): Promise<Plan[]> {
    const ctx = new ResultContext(this.repo);
    const verified = new Set<string>();
    const plans: Plan[] = [];
    // The latest event per resource only: earlier versions were superseded within the batch.
    const last = new Map<string, OutboxEvent>();
    for (const e of events)
      if (e.interaction !== 'delete' && (e.type === 'Observation' || e.type === 'DiagnosticReport'))
        last.set(`${e.type}/${e.id}`, e);
    // One read per type: the current JSON names its version (meta.versionId).
    const current = new Map<string, Resource>();
    for (const type of ['Observation', 'DiagnosticReport']) {
      const ids = [...last.values()].filter((e) => e.type === type).map((e) => e.id);
      for (const json of await this.repo.readMany(type, ids)) {
        const r = JSON.parse(json) as Resource;
        current.set(`${type}/${r.id}`, r);
      }
    }
    // What the batch will read, with a few reads; should that fail, each result reads on its own.
    await ctx
      .prefetch(
        [...last]
          .filter(([key, e]) => e.type === 'Observation' && Number(current.get(key)?.meta?.versionId) === e.version)
          .map(([key]) => current.get(key) as unknown as Observation)
          .filter((o) => !skipReason(o)),
        this.rules,
      )
      .catch((err: unknown) => this.opts.onError?.(err));
    for (const [key, e] of last) {
      await ctx.slice.tick();
      const r = current.get(key);
      // Only the version the event names: a later version has its own event.
      if (!r || Number(r.meta?.versionId) !== e.version) continue;
      try {
        const plan =
          e.type === 'Observation'
            ? await this.planObservation(r as unknown as Observation, e.version, ctx, verified)
            : await this.planReport(r as unknown as DiagnosticReport, ctx);
        if (plan) plans.push(plan);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
    return plans;
  }

  private async planReport(r: DiagnosticReport, ctx: ResultContext): Promise<Plan | undefined> {
    if (!isIncidental(r)) return undefined;
    const sr = await ctx.serviceRequest(r);
    return {
      writes: [
        {
          resource: asResource(incidentalTask(r, sr, await orderingOrganization(this.repo, sr), this.now())),
          ifAbsent: true,
        },
      ],
    };
  }

  private async planObservation(
    o: Observation,
    version: number,
    ctx: ResultContext,
    verified: Set<string>,
  ): Promise<Plan | undefined> {
    if (skipReason(o)) return undefined;
    const now = this.now();
    const rules = this.rules;
    const patient = await ctx.patient(o);
    const facts = resultFacts(o, patient, now);
    const involved = rules.consistency.some((c) =>
      facts.codes.some(
        (x) => (x.system === c.a.system && x.code === c.a.code) || (x.system === c.b.system && x.code === c.b.code),
      ),
    );
    const analysis = findAnalysis(rules, facts.codes);
    const previous = analysis ? await ctx.previous(o, analysis, facts.effective) : undefined;
    const e = autoverify(rules, facts, previous, involved ? await ctx.siblings(o, rules) : []);
    const unverified = UNVERIFIED.has(o.status);
    const outcome = unverified ? e.outcome : undefined;
    const sr = await ctx.serviceRequest(o);
    const next: Observation = { ...o, meta: withTags(o.meta, outcome, rules.version) };
    if (outcome === 'autoverified') next.status = 'final';
    if (outcome === 'held' && o.status !== 'preliminary') next.status = 'preliminary';
    this.annotate(next, e, sr);
    const writes: PlannedWrite[] = [{ resource: asResource(next), ifMatch: version }];
    const isFinal = next.status === 'final' || next.status === 'amended' || next.status === 'corrected';
    if (outcome === 'held') writes.push({ resource: asResource(reviewTask(o, e, now)), ifAbsent: true });
    const organization = e.critical || isIncidental(o) ? await orderingOrganization(this.repo, sr) : undefined;
    if (e.critical) {
      for (const r of criticalResources(o, e.critical, organization, now))
        writes.push({ resource: asResource(r), ifAbsent: true });
    }
    if (isIncidental(o))
      writes.push({ resource: asResource(incidentalTask(o, sr, organization, now)), ifAbsent: true });
    if (isFinal) {
      verified.add(o.id!);
      for (const d of await derivedObservations(rules, next, ctx, verified)) writes.push({ resource: asResource(d) });
      writes.push(...this.reflexOrders(next, e, sr, now));
    }
    const code = e.analysis?.code ?? codesOf(o)[0];
    return {
      writes,
      ...(outcome === 'autoverified' ? { autoverified: `Observation/${o.id}/_history/${version + 1}` } : {}),
      outcome: {
        observationId: o.id!,
        analysis: code ? `${code.system}|${code.code}` : 'uncoded',
        section: e.analysis?.section ?? 'unknown',
        outcome: outcome ?? 'upstream',
        ruleSet: rules.version,
        at: now,
      },
    };
  }

  /** Interpretation and reference range when missing; likelihood-ratio interpretation when the requisition gives a pre-test probability. */
  private annotate(next: Observation, e: Evaluation, sr: ServiceRequest | undefined): void {
    const unit = e.analysis?.unit ?? '';
    if (!next.interpretation?.length && e.interpretation) {
      const t = INTERPRETATION_TEXT[e.interpretation];
      next.interpretation = [
        { coding: [{ system: INTERPRETATION_SYSTEM, code: e.interpretation }], text: `${t.en} / ${t.da}` },
      ];
    }
    if (!next.referenceRange?.length && e.reference) {
      const q = (v: number | undefined) =>
        v === undefined ? undefined : { value: v, unit, system: 'http://unitsofmeasure.org', code: unit };
      next.referenceRange = [
        {
          low: q(e.reference.range.low),
          high: q(e.reference.range.high),
          text: `${intervalText(e.reference, unit)} (${e.reference.source})`,
        },
      ];
    }
    if (e.value === undefined || !e.analysis) return;
    const pre = preTestProbabilities(sr);
    for (const table of this.rules.likelihood) {
      if (table.analysis.code !== e.analysis.code.code || table.analysis.system !== e.analysis.code.system) continue;
      const p = pre.get(table.condition);
      const post = p === undefined ? undefined : interpretWithLikelihood(table, e.value, p);
      if (!post) continue;
      next.note = [...(next.note ?? []), { text: `${post.text.en} ${post.text.da} [${post.source}]` }];
      next.extension = [
        ...(next.extension ?? []),
        {
          url: EXT.postTestProbability,
          extension: [
            { url: 'condition', valueCode: post.condition },
            { url: 'preTest', valueDecimal: post.preTest },
            { url: 'likelihoodRatio', valueDecimal: post.lr },
            { url: 'postTest', valueDecimal: Math.round(post.postTest * 10000) / 10000 },
          ],
        },
      ];
    }
  }

  private reflexOrders(o: Observation, e: Evaluation, sr: ServiceRequest | undefined, now: number): PlannedWrite[] {
    const { subject, specimen } = o;
    if (!e.analysis || !specimen || !subject) return [];
    return reflexesFor(this.rules, e.analysis.code, e.interpretation).map((rule) => ({
      ifAbsent: true,
      resource: asResource({
        resourceType: 'ServiceRequest',
        id: `rp-reflex-${rule.id}-${o.id}`.slice(0, 64),
        status: 'active',
        intent: 'reflex-order',
        code: { coding: [{ ...rule.order }], text: rule.order.display },
        subject,
        specimen: [specimen],
        ...(sr?.id ? { basedOn: [{ reference: `ServiceRequest/${sr.id}` }] } : {}),
        ...(sr?.requester ? { requester: sr.requester } : {}),
        authoredOn: new Date(now).toISOString(),
        reasonReference: [{ reference: `Observation/${o.id}` }],
        note: [{ text: rule.source }],
      } satisfies ServiceRequest),
    }));
  }

  /**
   * Writes plans: all in one transaction with one Provenance for the batch's autoverifications and
   * the consumer position `ack`; when that fails, each on its own (a stale Observation is
   * skipped). True when the position was committed with the writes.
   */
  private async apply(plans: readonly Plan[], ack: number): Promise<boolean> {
    if (plans.length === 0) return false;
    const writeAll = async (w: WriteContext, batch: readonly Plan[]) => {
      const writes = batch.flatMap((p) => p.writes);
      const targets = batch.map((p) => p.autoverified).filter((t): t is string => t !== undefined);
      if (targets.length > 0) {
        const prov = verificationProvenance(
          targets,
          this.now(),
          { display: 'dxhub result pipeline' },
          this.rules,
          'autoverified',
        );
        writes.push({ resource: asResource(prov) });
      }
      // One putMany for the batch: a few statements instead of ~6 per write.
      await this.repo.putMany(w, writes);
      await recordOutcomes(
        w.tx,
        batch.flatMap((p) => (p.outcome ? [p.outcome] : [])),
      );
    };
    try {
      await this.repo.transaction(async (w) => {
        await writeAll(w, plans);
        await this.consumer.ack(ack, w.tx);
      });
      return true;
    } catch {
      for (const p of plans) {
        try {
          await this.repo.transaction((w) => writeAll(w, [p]));
        } catch (err) {
          // A newer version of the Observation has its own outbox event: nothing is lost.
          if (!(err instanceof FhirError && err.status === 412) && !(err instanceof FhirError && err.status === 409))
            this.opts.onError?.(err);
        }
      }
      return false;
    }
  }

  /**
   * A laboratory physician's decision on a held result: `release` makes it final (tag `released`,
   * Provenance naming the physician and the rule set) and runs what verified results trigger
   * (derived values, reflexes); `reject` sets `cancelled` (not reportable, e.g. haemolysed) or
   * `entered-in-error` (wrong patient/specimen), tag `rejected`. Either completes the review Task.
   */
  async decide(
    taskId: string,
    decision: 'release' | 'reject',
    who: { display: string; reference?: string },
    opts: { reason?: string; status?: 'cancelled' | 'entered-in-error'; interceptor?: WriteInterceptor } = {},
  ): Promise<Observation> {
    const { task, observation: o, version } = await openReview(this.repo, taskId);
    const now = this.now();
    const outcome = decision === 'release' ? 'released' : 'rejected';
    const next: Observation = {
      ...o,
      status: decision === 'release' ? 'final' : (opts.status ?? 'cancelled'),
      meta: withTags(o.meta, outcome, this.rules.version),
      ...(opts.reason
        ? {
            note: [
              ...(o.note ?? []),
              { authorString: who.display, time: new Date(now).toISOString(), text: opts.reason },
            ],
          }
        : {}),
    };
    const writes: PlannedWrite[] = [
      { resource: asResource(next), ifMatch: version },
      {
        resource: asResource(
          verificationProvenance([`Observation/${o.id}/_history/${version + 1}`], now, who, this.rules, outcome),
        ),
      },
      {
        resource: asResource({
          ...task,
          status: 'completed',
          businessStatus: { text: outcome },
          executionPeriod: { start: task.authoredOn, end: new Date(now).toISOString() },
          ...(opts.reason ? { note: [{ authorString: who.display, text: opts.reason }] } : {}),
        }),
      },
    ];
    if (decision === 'release') {
      const ctx = new ResultContext(this.repo);
      const e = autoverify(this.rules, resultFacts(o, await ctx.patient(o), now), undefined, []);
      for (const d of await derivedObservations(this.rules, next, ctx, new Set([o.id!])))
        writes.push({ resource: asResource(d) });
      writes.push(...this.reflexOrders(next, e, await ctx.serviceRequest(o), now));
    }
    const code = codesOf(o)[0];
    const row = {
      observationId: o.id!,
      analysis: code ? `${code.system}|${code.code}` : 'uncoded',
      section: findAnalysis(this.rules, codesOf(o))?.section ?? 'unknown',
      outcome,
      ruleSet: this.rules.version,
      at: now,
    } as const;
    await this.repo.transaction(async (w) => {
      await this.repo.putMany(w, writes);
      await recordOutcomes(w.tx, [row]);
    }, opts.interceptor);
    return next;
  }

  /** Escalates critical values unacknowledged past the rule set's time (see `escalateUnacknowledged`). */
  escalate(): Promise<string[]> {
    return escalateUnacknowledged(this.repo, this.now(), this.rules.criticalEscalationMinutes);
  }

  /** Polls the outbox until {@link stop}; escalates overdue critical values on the way. */
  start(): void {
    this.poller.start();
  }

  /** Something was written: look now. */
  notify(): void {
    this.poller.notify();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** One turn of the loop: escalation when due, then the outbox; true when the batch was full (more waiting). */
  private async step(): Promise<boolean> {
    if (this.now() - this.lastEscalation >= (this.opts.escalationCheckMs ?? 60_000)) {
      this.lastEscalation = this.now();
      await this.escalate();
    }
    return (await this.runOnce()).events >= this.batchSize;
  }

  private get batchSize(): number {
    return this.opts.batch ?? 200;
  }
}
