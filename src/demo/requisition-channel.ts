import { randomUUID } from 'node:crypto';
import { DEMO_TAG_SYSTEM, decide, orderedAs } from '../core/demo/index.ts';
import { CATALOGUE } from '../core/ordering/index.ts';
import { PLACER_NAMESPACE } from '../ordering/ordering-service.ts';
import type { LocalIssuer, TokenRequest } from '../security/local-issuer.ts';
import { type OrderChannel, postJson, putTransaction, restOrderChannel } from './order-channel.ts';

/** Tokens the channel needs: a clinician of the ordering unit (SOR code), and the lab's integration account. */
export interface ChannelTokens {
  orderer(organisation: string): Promise<string>;
  integration(): Promise<string>;
}

type Finding = { rule: string; action: string; orderId: string; overrideRoles?: string[] };

/** The simulated clinician's user id in a unit (token subject, order-event orderer). */
export const simulatedOrderer = (organisation: string) => `demo-epj-${organisation}`;

/**
 * Orders as an EPJ places them in dxhub (docs/demo-region.md): CDS Hooks `order-select` with the
 * draft ServiceRequest, `POST /ordering/requisitions` (one test per requisition), then sign with
 * reasons for the warnings the clinician overrides, or revoke when they withdraw the order (an
 * unliftable block, or a warning heeded) — decisions seeded by `decide`. The collected Specimen is
 * then registered by the lab (integration token) against the requisition's ServiceRequest, and
 * results quote the requisition's placer number. Over-orders carry the demo `over-order` tag in
 * the CDS Hooks draft, so a reader can match them to the rules' findings.
 */
export function requisitionOrderChannel(baseUrl: string, tokens: ChannelTokens, seed: number | string): OrderChannel {
  const byId = new Map(CATALOGUE.map((i) => [i.id, i]));
  return {
    name: 'requisition',
    async place(order, resources) {
      const item = byId.get(orderedAs(order));
      if (!item) throw new Error(`demo order ${order.id}: catalogue has no '${orderedAs(order)}'`);
      const token = await tokens.orderer(order.requester);
      const patientId = order.patient.id;
      const userId = `Practitioner/${simulatedOrderer(order.requester)}`;
      const draft = {
        resourceType: 'ServiceRequest',
        id: `${order.id}-draft`,
        status: 'draft',
        intent: 'order',
        priority: order.priority,
        code: { coding: [item.code] },
        subject: { reference: `Patient/${patientId}` },
        ...(order.overOrder ? { meta: { tag: [{ system: DEMO_TAG_SYSTEM, code: 'over-order' }] } } : {}),
      };
      // The EPJ registers the contact (a visit at the ordering unit) before the order: it is the
      // clinician's treatment relation (§ 42 a), which the ordering routes require.
      await putTransaction(baseUrl, await tokens.integration(), [
        contactOf(order.patient.id, order.requester, order.priority),
      ]);
      await postJson(`${baseUrl}/cds-services/dxhub-order-select`, token, {
        hook: 'order-select',
        hookInstance: randomUUID(),
        context: {
          userId,
          patientId,
          selections: [`ServiceRequest/${draft.id}`],
          draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] },
        },
      });
      const created = (await postJson(`${baseUrl}/ordering/requisitions`, token, {
        patientId,
        setting: order.priority === 'routine' ? 'primary-care' : 'emergency',
        priority: order.priority,
        orders: [{ test: item.id, performer: order.performer }],
      })) as { requisition: string; orders: { id: string }[]; findings: Finding[] };
      const decision = decide(seed, order.id, created.findings, 'clinician');
      const at = `${baseUrl}/ordering/requisitions/${created.requisition}`;
      if (!decision.sign) {
        await postJson(`${at}/revoke`, token, { reason: decision.reason });
        return undefined;
      }
      await postJson(`${at}/sign`, token, { overrides: decision.overrides });
      const serviceRequest = created.orders[0]!.id;
      const specimens = resources
        .filter((r) => r.resourceType === 'Specimen')
        .map((r) => ({ ...r, request: [{ reference: `ServiceRequest/${serviceRequest}` }] }));
      if (specimens.length > 0) await putTransaction(baseUrl, await tokens.integration(), specimens);
      return { placer: [created.requisition, PLACER_NAMESPACE], serviceRequest };
    },
  };
}

/**
 * Tokens from the embedded issuer, one per account, renewed after 12 hours (they live 24), so that
 * a long-running simulator keeps placing orders.
 */
function issuedTokens(issuer: LocalIssuer): (who: Omit<TokenRequest, 'ttlSeconds'>) => Promise<string> {
  const current = new Map<string, { token: string; at: number }>();
  return async (who) => {
    const key = `${who.user}|${who.role}|${who.org}`;
    const c = current.get(key);
    if (c && Date.now() - c.at < 12 * 3_600_000) return c.token;
    const issued = await issuer.issueToken({ ...who, ttlSeconds: 86_400 });
    if (!issued.ok) throw new Error(`${issued.error}: ${issued.message}`);
    current.set(key, { token: issued.accessToken, at: Date.now() });
    return issued.accessToken;
  };
}

/**
 * The simulator's order channel: `requisition` (a clinician of the ordering unit signs through
 * the requisition API; the lab's integration account registers the specimen) or `rest`.
 */
export function demoOrderChannel(
  channel: 'requisition' | 'rest',
  url: string,
  issuer: LocalIssuer,
  seed: number | string,
): OrderChannel {
  const tokens = issuedTokens(issuer);
  const integration = () => tokens({ user: 'demo-simulator', role: 'integration', org: 'demo-ouh-kba' });
  if (channel === 'rest') return restOrderChannel(url, integration);
  return requisitionOrderChannel(
    url,
    { integration, orderer: (org) => tokens({ user: simulatedOrderer(org), role: 'clinician', org }) },
    seed,
  );
}

/** The open contact of a patient at a unit (one per pair: writing it again changes nothing). */
function contactOf(patientId: string, unit: string, priority: string) {
  const emergency = priority !== 'routine';
  return {
    resourceType: 'Encounter',
    id: `sim-contact-${patientId}-${unit}`.slice(0, 64),
    status: 'in-progress',
    class: {
      system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
      code: emergency ? 'EMER' : 'AMB',
    },
    subject: { reference: `Patient/${patientId}` },
    serviceProvider: { reference: `Organization/${unit}` },
  };
}
