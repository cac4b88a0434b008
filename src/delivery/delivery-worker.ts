import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { buildOruR01 } from '../core/hl7/oru-from-fhir.ts';
import { OutboxConsumer } from '../store/outbox.ts';
import { PollLoop } from '../store/poll-loop.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import { type Delivery, DeliveryQueue, type NewDelivery } from './delivery-queue.ts';
import { ackCode, sendMllp } from './mllp-client.ts';

/** Where HL7 v2 ORU^R01 messages for final reports go (e.g. the EPJ's inbound interface). */
export interface OruReceiver {
  readonly host: string;
  readonly port: number;
  /** MSH-5 / MSH-6. */
  readonly application?: string;
  readonly facility?: string;
}

/** Options of {@link DeliveryWorker}. */
export interface DeliveryWorkerOptions {
  readonly repo: FhirRepository;
  readonly oruReceiver?: OruReceiver;
  /** Idle wait between rounds (ms, default 200). */
  readonly pollMs?: number;
  /** Attempts before a message is given up (dead letter); default 15 (~1 h of backoff). */
  readonly maxAttempts?: number;
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
  /** Timeout of one delivery (HTTP or MLLP), ms; default 10 s. */
  readonly timeoutMs?: number;
}

type Subscription = Resource & {
  status?: string;
  criteria?: string;
  channel?: { type?: string; endpoint?: string; payload?: string; header?: string[] };
};

const REPORT_STATUSES = new Set(['final', 'amended', 'corrected', 'appended']);
export const ORU_CHANNEL = 'hl7-oru';
/** Outbox events read per round. */
const OUTBOX_BATCH = 500;
/** Due deliveries sent per round. */
const DUE_BATCH = 50;

/**
 * Sends what subscribers asked for, from the store's outbox (every committed change, in commit
 * order), through the durable {@link DeliveryQueue}:
 * - FHIR R4 Subscriptions with a `rest-hook` channel: a `requested` Subscription is activated; each
 *   created or updated resource matching an active Subscription's `criteria` (a search, evaluated by
 *   the store) is POSTed to `channel.endpoint` — the resource when `channel.payload` is set, an
 *   empty notification otherwise — with the channel's headers;
 * - HL7 v2: each final (amended, corrected) DiagnosticReport becomes an ORU^R01 to the configured
 *   receiver over MLLP; AA/CA is delivered, anything else is retried.
 * Failed attempts are retried with exponential backoff; per destination the order is kept.
 * Delivery is at least once: a receiver may see a message again after a crash.
 */
export class DeliveryWorker {
  readonly queue: DeliveryQueue;
  private readonly opts: DeliveryWorkerOptions;
  private readonly consumer: OutboxConsumer;
  private subscriptions: Subscription[] | undefined;
  private readonly poller: PollLoop;
  private controlSeq = 0;
  /** Outbox events the last round read. */
  private polled = 0;

  constructor(opts: DeliveryWorkerOptions) {
    this.opts = opts;
    this.queue = new DeliveryQueue(opts.repo.db);
    this.consumer = new OutboxConsumer(opts.repo.db, 'delivery');
    this.poller = new PollLoop(
      async () => {
        // More waiting: a full outbox batch, or a full page of due deliveries.
        const r = await this.runOnce();
        return this.polled >= OUTBOX_BATCH || r.delivered + r.failed >= DUE_BATCH;
      },
      opts.pollMs ?? 200,
      opts.onError,
    );
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** One round: queue what the outbox holds, then send what is due. */
  async runOnce(): Promise<{ queued: number; delivered: number; failed: number }> {
    const queued = await this.enqueueFromOutbox();
    const { delivered, failed } = await this.deliverDue();
    return { queued, delivered, failed };
  }

  private async activeSubscriptions(): Promise<Subscription[]> {
    if (!this.subscriptions) {
      const page = await this.opts.repo.search(
        parseSearchRequest('Subscription', [
          ['status', 'active'],
          ['type', 'rest-hook'],
          ['_count', '1000'],
        ]),
      );
      this.subscriptions = page.matches.map((m) => JSON.parse(m.json) as Subscription);
    }
    return this.subscriptions;
  }

  private async matches(sub: Subscription, type: string, id: string): Promise<boolean> {
    const criteria = sub.criteria ?? '';
    const q = criteria.indexOf('?');
    if (criteriaType(sub) !== type) return false;
    const params = [...new URLSearchParams(q < 0 ? '' : criteria.slice(q + 1))] as [string, string][];
    try {
      const req = parseSearchRequest(type, [...params, ['_id', id], ['_count', '1']]);
      return (await this.opts.repo.search(req)).matches.length > 0;
    } catch (err) {
      this.opts.onError?.(new Error(`Subscription/${sub.id} criteria '${criteria}': ${(err as Error).message}`));
      return false;
    }
  }

  private started = false;

  private async enqueueFromOutbox(): Promise<number> {
    if (!this.started) {
      // A new consumer starts at the head: subscribers get changes from now on, and the receiving
      // system does not get every report ever stored when delivery is first switched on.
      this.started = true;
      if ((await this.consumer.position()) === 0) {
        const head = await this.opts.repo.db.all<{ m: number | null }>('SELECT MAX(seq) AS m FROM outbox');
        const m = Number(head[0]?.m ?? 0);
        if (m > 0) await this.consumer.ack(m);
      }
      // Subscriptions requested before this point are activated now.
      const requested = await this.opts.repo.search(
        parseSearchRequest('Subscription', [
          ['status', 'requested'],
          ['_count', '1000'],
        ]),
      );
      for (const m of requested.matches) await this.activate((JSON.parse(m.json) as Resource).id!);
      this.subscriptions = undefined;
    }
    const events = await this.consumer.poll(OUTBOX_BATCH);
    this.polled = events.length;
    if (events.length === 0) return 0;
    const items: NewDelivery[] = [];
    for (const e of events) {
      if (e.interaction === 'delete') continue;
      if (e.type === 'Subscription') {
        this.subscriptions = undefined;
        await this.activate(e.id);
        continue;
      }
      // Read the resource only when something may deliver it: most changes (every Observation of
      // an HL7 message, its Provenance …) have no subscription of their type and no ORU route.
      const subs = (await this.activeSubscriptions()).filter(
        (sub) => sub.channel?.type === 'rest-hook' && sub.channel.endpoint && criteriaType(sub) === e.type,
      );
      const oru = Boolean(this.opts.oruReceiver) && e.type === 'DiagnosticReport';
      if (subs.length === 0 && !oru) continue;
      const current = await this.opts.repo.read(e.type, e.id);
      // Only the version the event names: a later version has its own event.
      if (!current?.json || current.version !== e.version) continue;
      for (const sub of subs) {
        if (!(await this.matches(sub, e.type, e.id))) continue;
        items.push({
          channel: `Subscription/${sub.id}`,
          resourceType: e.type,
          resourceId: e.id,
          version: e.version,
          payload: sub.channel?.payload ? current.json : '',
        });
      }
      if (oru) {
        const report = JSON.parse(current.json) as Resource;
        if (REPORT_STATUSES.has(String(report.status))) {
          items.push({
            channel: ORU_CHANNEL,
            resourceType: e.type,
            resourceId: e.id,
            version: e.version,
            payload: await this.oru(report, e.seq),
          });
        }
      }
    }
    await this.queue.enqueue(items, this.now());
    await this.consumer.ack(events[events.length - 1]!.seq);
    return items.length;
  }

  /** A rest-hook Subscription the server can serve goes from `requested` to `active` (R4 §subscription). */
  private async activate(id: string): Promise<void> {
    const v = await this.opts.repo.read('Subscription', id);
    if (!v?.json) return;
    const sub = JSON.parse(v.json) as Subscription;
    if (sub.status !== 'requested') return;
    const ok = sub.channel?.type === 'rest-hook' && /^https?:\/\//.test(sub.channel.endpoint ?? '');
    const next = ok
      ? { ...sub, status: 'active' }
      : { ...sub, status: 'error', error: 'dxhub supports rest-hook channels with an http(s) endpoint' };
    await this.opts.repo.transaction((w) => this.opts.repo.put(w, next, { ifMatch: v.version }));
  }

  private async oru(report: Resource, seq: number): Promise<string> {
    const refs = ((report.result as { reference?: string }[] | undefined) ?? []).map((r) => r.reference ?? '');
    const observations: Resource[] = [];
    for (const ref of refs) {
      const [type, id] = ref.split('/');
      if (type !== 'Observation' || !id) continue;
      const v = await this.opts.repo.read('Observation', id);
      if (v?.json) observations.push(JSON.parse(v.json) as Resource);
    }
    const subject = String((report.subject as { reference?: string } | undefined)?.reference ?? '');
    const patientId = subject.startsWith('Patient/') ? subject.slice(8) : undefined;
    const pv = patientId ? await this.opts.repo.read('Patient', patientId) : undefined;
    const r = this.opts.oruReceiver!;
    return buildOruR01({
      report,
      observations,
      patient: pv?.json ? (JSON.parse(pv.json) as Resource) : undefined,
      sendingApplication: 'DXHUB',
      sendingFacility: 'DXHUB',
      receivingApplication: r.application ?? '',
      receivingFacility: r.facility ?? '',
      controlId: `DX${seq}-${++this.controlSeq}`,
      at: new Date(this.now()).toISOString(),
    });
  }

  private async deliverDue(): Promise<{ delivered: number; failed: number }> {
    let delivered = 0;
    let failed = 0;
    for (const d of await this.queue.due(this.now(), DUE_BATCH)) {
      try {
        await this.deliver(d);
        await this.queue.delivered(d.id, this.now());
        delivered++;
      } catch (err) {
        await this.queue.attemptFailed(d, (err as Error).message, this.now(), this.opts.maxAttempts ?? 15);
        failed++;
      }
    }
    return { delivered, failed };
  }

  private async deliver(d: Delivery): Promise<void> {
    const timeout = this.opts.timeoutMs ?? 10_000;
    if (d.channel === ORU_CHANNEL) {
      const r = this.opts.oruReceiver;
      if (!r) throw new Error('no ORU receiver configured');
      const ack = await sendMllp(r.host, r.port, d.payload, timeout);
      const code = ackCode(ack);
      if (code !== 'AA' && code !== 'CA')
        throw new Error(`receiver answered ${code ?? 'no MSA'}: ${ack.slice(0, 300)}`);
      return;
    }
    const subId = d.channel.slice('Subscription/'.length);
    const v = await this.opts.repo.read('Subscription', subId);
    const sub = v?.json ? (JSON.parse(v.json) as Subscription) : undefined;
    if (sub?.status !== 'active' || !sub.channel?.endpoint) {
      throw new Error(`Subscription/${subId} is no longer active`);
    }
    const headers: Record<string, string> = {};
    for (const h of sub.channel.header ?? []) {
      const i = h.indexOf(':');
      if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
    }
    const mime = sub.channel.payload;
    const res = await fetch(sub.channel.endpoint, {
      method: 'POST',
      headers: { ...(mime ? { 'content-type': mime } : {}), ...headers },
      body: mime ? d.payload : undefined,
      redirect: 'error',
      signal: AbortSignal.timeout(timeout),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`${sub.channel.endpoint} answered ${res.status}`);
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}

/** The resource type a Subscription's criteria name (`Observation?code=…` → `Observation`). */
function criteriaType(sub: Subscription): string {
  const criteria = sub.criteria ?? '';
  const q = criteria.indexOf('?');
  return q < 0 ? criteria : criteria.slice(0, q);
}
