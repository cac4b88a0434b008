/**
 * The CDS Hooks 2.0 client side of order entry (docs/web.md): the `order-select` request for a
 * basket of draft orders, and reading dxhub's cards back (src/core/ordering/cards.ts).
 */
import type { RoleKind } from './session.ts';

export interface Coding {
  system: string;
  code: string;
  display?: string;
}
/** A CDS Hooks 2.0 card as dxhub's `order-select` service returns it (src/core/ordering/cards.ts). */
export interface CdsCard {
  uuid: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; topic?: Coding };
  suggestions?: {
    uuid: string;
    label: string;
    isRecommended?: boolean;
    actions?: {
      type: 'create' | 'update' | 'delete';
      description?: string;
      resourceId?: string;
      resource?: { code?: { coding?: Coding[]; text?: string } };
    }[];
  }[];
  overrideReasons?: Coding[];
  extension?: Record<string, unknown>;
}
/** dxhub's card extension: the rule, its action, the draft order and test, who may lift a block. */
export interface CardInfo {
  rule: string;
  action: 'info' | 'warning' | 'block';
  orderId: string;
  test: string;
  overrideRoles?: string[];
}
export const CARD_EXTENSION = 'dk.dxhub.ordering';
export const ORDER_SELECT = '/cds-services/dxhub-order-select';
export const draftId = (test: string) => `draft-${test}`;
/** The card's extension; without it (another CDS service) the indicator and the topic tell what they can. */
export function cardInfo(card: CdsCard): CardInfo {
  const ext = card.extension?.[CARD_EXTENSION] as Partial<CardInfo> | undefined;
  const remove = card.suggestions?.flatMap((s) => s.actions ?? []).find((a) => a.type === 'delete')?.resourceId;
  const orderId = ext?.orderId ?? remove?.replace(/^ServiceRequest\//, '') ?? '';
  return {
    rule: ext?.rule ?? card.source.topic?.code ?? card.uuid,
    action: ext?.action ?? (card.indicator === 'critical' ? 'block' : card.indicator),
    orderId,
    test: ext?.test ?? orderId.replace(/^draft-/, ''),
    ...(ext?.overrideRoles ? { overrideRoles: ext.overrideRoles } : {}),
  };
}
/** A card the user may override: a warning (with a reason), a block only by a role it names. */
export const overridable = (f: { action: string; overrideRoles?: string[] }, role: RoleKind) =>
  f.action === 'warning' || (f.action === 'block' && (f.overrideRoles ?? []).includes(role));

/** The CDS Hooks `order-select` request for the basket: every test a draft ServiceRequest, all selected. */
export function orderSelectRequest(
  user: string,
  patient: string,
  tests: readonly { id: string; code: Coding }[],
  hookInstance: string,
) {
  return {
    hook: 'order-select',
    hookInstance,
    context: {
      userId: `Practitioner/${user}`,
      patientId: patient,
      selections: tests.map((t) => `ServiceRequest/${draftId(t.id)}`),
      draftOrders: {
        resourceType: 'Bundle',
        type: 'collection',
        entry: tests.map((t) => ({
          resource: {
            resourceType: 'ServiceRequest',
            id: draftId(t.id),
            status: 'draft',
            intent: 'order',
            code: { coding: [t.code] },
            subject: { reference: `Patient/${patient}` },
          },
        })),
      },
    },
  };
}
