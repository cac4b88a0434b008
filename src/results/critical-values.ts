import type {
  Communication,
  CommunicationRequest,
  Flag,
  Observation,
  Organization,
  Reference,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { Errors } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import type { Finding } from '../core/results/index.ts';
import type { FhirRepository, Resource, WriteInterceptor } from '../store/repository.ts';
import { RP } from './result-facts.ts';

/** The category every critical-value CommunicationRequest and Communication carries (shared contract). */
export const CRITICAL_CATEGORY = { coding: [{ system: RP, code: 'critical-value' }] };
/** What a Communication of the critical-value loop records (`Communication.reasonCode`). */
export const COMMUNICATION_KINDS = ['notification', 'acknowledgement', 'read-back', 'escalation'] as const;
export type CommunicationKind = (typeof COMMUNICATION_KINDS)[number];
const KIND_SYSTEM = 'urn:dxhub:result-processing:communication';

/** The ordering clinician's Organization: requester when an Organization, else a PractitionerRole's organisation. */
export async function orderingOrganization(
  repo: FhirRepository,
  sr: ServiceRequest | undefined,
): Promise<Reference<Organization> | undefined> {
  const req = sr?.requester?.reference ?? '';
  if (req.startsWith('Organization/')) return { reference: req };
  if (req.startsWith('PractitionerRole/')) {
    const role = await repo.read('PractitionerRole', req.slice('PractitionerRole/'.length));
    const org = role?.json ? (JSON.parse(role.json) as { organization?: Reference }).organization : undefined;
    if (org?.reference) return { reference: org.reference };
  }
  return undefined;
}

/** The Flag and CommunicationRequest a critical result raises (ids derived from the Observation: idempotent). */
export function criticalResources(
  o: Observation,
  finding: Finding,
  recipient: Reference<Organization> | undefined,
  raisedAt: number,
): [Flag, CommunicationRequest] {
  const text = `${finding.text} (${o.code?.text ?? o.code?.coding?.[0]?.display ?? o.code?.coding?.[0]?.code}) / Kritisk værdi`;
  const flag: Flag = {
    resourceType: 'Flag',
    id: `rp-crit-${o.id}`,
    status: 'active',
    category: [CRITICAL_CATEGORY],
    code: { coding: [{ system: RP, code: 'critical-value' }], text },
    subject: o.subject as Flag['subject'],
    period: { start: new Date(raisedAt).toISOString() },
  };
  const request: CommunicationRequest = {
    resourceType: 'CommunicationRequest',
    id: `rp-crit-${o.id}`,
    status: 'active',
    category: [CRITICAL_CATEGORY],
    priority: 'stat',
    subject: o.subject as CommunicationRequest['subject'],
    about: [{ reference: `Observation/${o.id}` }, { reference: `Flag/${flag.id}` }],
    ...(o.basedOn ? { basedOn: o.basedOn } : {}),
    authoredOn: new Date(raisedAt).toISOString(),
    ...(recipient ? { recipient: [recipient] } : {}),
    payload: [{ contentString: text }],
    ...(recipient
      ? {}
      : { note: [{ text: 'No ordering organisation known: escalates / Ingen rekvirerende organisation kendt' }] }),
  };
  return [flag, request];
}

const asResource = (r: object) => r as unknown as Resource;

export async function readRequest(repo: FhirRepository, id: string): Promise<CommunicationRequest> {
  const v = await repo.read('CommunicationRequest', id);
  if (!v?.json || v.deleted) throw Errors.notFound('CommunicationRequest', id);
  const cr = JSON.parse(v.json) as CommunicationRequest;
  if (!cr.category?.some((c) => c.coding?.some((x) => x.system === RP && x.code === 'critical-value'))) {
    throw Errors.badRequest(`CommunicationRequest/${id} is not a critical-value notification`);
  }
  return cr;
}

/**
 * Records one step of the critical-value loop as a Communication based on the request:
 * - notification: the laboratory told the recipient; `sent` = when it was sent, `received` = when
 *   the recipient's system or person received it (given by the caller, else unset);
 * - acknowledgement: the clinician took responsibility; `sent` = the clinician's acknowledgement,
 *   `received` = when dxhub recorded it. Completes the request and ends the Flag;
 * - read-back: the clinician read the value back; `payload` holds what was read back;
 * - escalation: unacknowledged past the configured time; `sent` = when escalated.
 */
export async function recordCommunication(
  repo: FhirRepository,
  requestId: string,
  kind: CommunicationKind,
  opts: {
    now: number;
    sentAt?: number;
    receivedAt?: number;
    text?: string;
    sender?: string;
    interceptor?: WriteInterceptor;
  },
): Promise<Communication> {
  const cr = await readRequest(repo, requestId);
  if (kind === 'acknowledgement' && cr.status === 'completed')
    throw Errors.badRequest(`CommunicationRequest/${requestId} is already acknowledged`);
  const received = kind === 'acknowledgement' ? opts.now : opts.receivedAt;
  const comm: Communication = {
    resourceType: 'Communication',
    status: 'completed',
    basedOn: [{ reference: `CommunicationRequest/${requestId}` }],
    category: [CRITICAL_CATEGORY],
    reasonCode: [{ coding: [{ system: KIND_SYSTEM, code: kind }] }],
    subject: cr.subject as Communication['subject'],
    about: cr.about,
    sent: new Date(opts.sentAt ?? opts.now).toISOString(),
    ...(received !== undefined ? { received: new Date(received).toISOString() } : {}),
    ...(cr.recipient ? { recipient: cr.recipient } : {}),
    ...(opts.sender ? { sender: { display: opts.sender } } : {}),
    ...(opts.text ? { payload: [{ contentString: opts.text }] } : {}),
  };
  return repo.transaction(async (w) => {
    const written = await repo.put(w, asResource(comm));
    if (kind === 'acknowledgement') {
      await repo.put(w, asResource({ ...cr, status: 'completed' }));
      const flagId = cr.about?.map((a) => /^Flag\/(.+)$/.exec(a.reference ?? '')?.[1]).find(Boolean);
      const flag = flagId ? await repo.read('Flag', flagId, w) : undefined;
      if (flag?.json) {
        const f = JSON.parse(flag.json) as Flag;
        await repo.put(
          w,
          asResource({ ...f, status: 'inactive', period: { ...f.period, end: new Date(opts.now).toISOString() } }),
        );
      }
    }
    return JSON.parse(written.json!) as Communication;
  }, opts.interceptor);
}

/** A critical-value request with its loop: times and minutes from raise to notification and to acknowledgement. */
export interface CriticalValueStatus {
  readonly request: string;
  /** The patient's id (the request's subject). */
  readonly patient?: string;
  readonly observation?: string;
  readonly status: string;
  readonly raisedAt: string;
  readonly notifiedAt?: string;
  readonly acknowledgedAt?: string;
  readonly escalatedAt?: string;
  readonly minutesToNotification?: number;
  readonly minutesToAcknowledgement?: number;
}

/** The id of a `Patient/<id>` reference. */
export const patientIdOf = (ref: { reference?: string } | undefined) =>
  /^Patient\/(.+)$/.exec(ref?.reference ?? '')?.[1];

const minutes = (from: string, to: string | undefined) =>
  to ? Math.round((Date.parse(to) - Date.parse(from)) / 600) / 100 : undefined;

/** Critical-value requests raised at or after `since` (newest first, at most `count`) with their loop times. */
export async function criticalValues(repo: FhirRepository, since: number, count = 200): Promise<CriticalValueStatus[]> {
  const page = await repo.search(
    parseSearchRequest('CommunicationRequest', [
      ['category', `${RP}|critical-value`],
      ['authored', `ge${new Date(since).toISOString()}`],
      ['_sort', '-authored'],
      ['_count', String(count)],
    ]),
  );
  const out: CriticalValueStatus[] = [];
  for (const m of page.matches) {
    const cr = JSON.parse(m.json) as CommunicationRequest;
    const comms = await repo.search(
      parseSearchRequest('Communication', [
        ['based-on', `CommunicationRequest/${cr.id}`],
        ['_count', '50'],
      ]),
    );
    const first = (kind: CommunicationKind) =>
      comms.matches
        .map((c) => JSON.parse(c.json) as Communication)
        .filter((c) => c.reasonCode?.some((r) => r.coding?.some((x) => x.code === kind)))
        .map((c) => c.sent!)
        .sort()[0];
    const raisedAt = cr.authoredOn!;
    const notifiedAt = first('notification');
    const acknowledgedAt = first('acknowledgement');
    out.push({
      request: `CommunicationRequest/${cr.id}`,
      patient: patientIdOf(cr.subject),
      observation: cr.about?.find((a) => a.reference?.startsWith('Observation/'))?.reference,
      status: cr.status,
      raisedAt,
      notifiedAt,
      acknowledgedAt,
      escalatedAt: first('escalation'),
      minutesToNotification: minutes(raisedAt, notifiedAt),
      minutesToAcknowledgement: minutes(raisedAt, acknowledgedAt),
    });
  }
  return out;
}

/**
 * Escalates every active critical-value request raised more than `afterMinutes` ago that has no
 * escalation yet: records an escalation Communication and tags the request `escalated`.
 * Returns the escalated request ids. Run by a timer (`CriticalEscalation`), testable with any `now`.
 */
export async function escalateUnacknowledged(
  repo: FhirRepository,
  now: number,
  afterMinutes: number,
): Promise<string[]> {
  const page = await repo.search(
    parseSearchRequest('CommunicationRequest', [
      ['category', `${RP}|critical-value`],
      ['status', 'active'],
      ['authored', `lt${new Date(now - afterMinutes * 60_000).toISOString()}`],
      ['_count', '500'],
    ]),
  );
  const done: string[] = [];
  for (const m of page.matches) {
    const cr = JSON.parse(m.json) as CommunicationRequest;
    if (cr.meta?.tag?.some((t) => t.system === RP && t.code === 'escalated')) continue;
    await recordCommunication(repo, cr.id!, 'escalation', {
      now,
      text: `Not acknowledged within ${afterMinutes} min: escalated to the laboratory physician on duty / Ikke kvitteret inden for ${afterMinutes} min: eskaleret til vagthavende laboratorielæge`,
    });
    await repo.transaction((w) =>
      repo.put(
        w,
        asResource({ ...cr, meta: { ...cr.meta, tag: [...(cr.meta?.tag ?? []), { system: RP, code: 'escalated' }] } }),
      ),
    );
    done.push(cr.id!);
  }
  return done;
}
