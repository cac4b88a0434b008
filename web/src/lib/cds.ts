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

/** The requisition's clinical details, as the rules read them (docs/ordering.md). */
export interface OrderDetails {
  readonly priority?: 'routine' | 'urgent' | 'stat';
  /** Local indication codes (`urn:dxhub:local:indication`). */
  readonly indications?: readonly string[];
  /** Symptom onset, `YYYY-MM-DD`. */
  readonly onset?: string;
}
export const INDICATION_SYSTEM = 'urn:dxhub:local:indication';
export const ONSET_EXTENSION = 'urn:dxhub:ordering:symptom-onset';

interface RuleLite {
  readonly tests?: readonly string[];
  readonly when?: readonly { kind: string; codes?: readonly string[] }[];
  readonly unless?: readonly { kind: string; codes?: readonly string[] }[];
}

/**
 * The indication codes the active rule set reads for the chosen tests (rules naming one of them
 * or `*`), in a stable order: the choices that can change a card, and only those.
 */
export function indicationsFor(rules: readonly RuleLite[], tests: readonly string[]): string[] {
  const codes = new Set<string>();
  for (const r of rules) {
    if (!r.tests?.some((t) => t === '*' || tests.includes(t))) continue;
    for (const p of [...(r.when ?? []), ...(r.unless ?? [])])
      if (p.kind === 'indication') for (const c of p.codes ?? []) codes.add(c);
  }
  return [...codes].sort();
}

/**
 * The CDS Hooks `order-select` request for the basket: every test a draft ServiceRequest, all
 * selected, carrying the requisition's priority, indications (`reasonCode`) and symptom onset.
 */
export function orderSelectRequest(
  user: string,
  patient: string,
  tests: readonly { id: string; code: Coding }[],
  hookInstance: string,
  details: OrderDetails = {},
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
            ...(details.priority ? { priority: details.priority } : {}),
            ...(details.indications?.length
              ? { reasonCode: details.indications.map((code) => ({ coding: [{ system: INDICATION_SYSTEM, code }] })) }
              : {}),
            ...(details.onset ? { extension: [{ url: ONSET_EXTENSION, valueDate: details.onset }] } : {}),
          },
        })),
      },
    },
  };
}

/**
 * Labels of the seed rule set's indication codes (`urn:dxhub:local:indication`, docs/ordering.md);
 * a code a region adds without a label here is shown as its code.
 */
export const INDICATION_LABELS: Record<string, { da: string; en: string }> = {
  'clinical-change': { da: 'Klinisk ændring', en: 'Clinical change' },
  'on-treatment': { da: 'Under behandling (monitorering)', en: 'On treatment (monitoring)' },
  symptoms: { da: 'Symptomer', en: 'Symptoms' },
  bleeding: { da: 'Blødning', en: 'Bleeding' },
  'pregnancy-planning': { da: 'Graviditetsplanlægning', en: 'Planning a pregnancy' },
  'vitd-risk': { da: 'Risiko for D-vitaminmangel', en: 'Risk of vitamin D deficiency' },
  osteoporosis: { da: 'Osteoporose', en: 'Osteoporosis' },
  malabsorption: { da: 'Malabsorption', en: 'Malabsorption' },
  ckd: { da: 'Kronisk nyresygdom', en: 'Chronic kidney disease' },
  'low-back-pain': { da: 'Lændesmerter', en: 'Low back pain' },
  'red-flag-trauma': { da: 'Rødt flag: traume', en: 'Red flag: trauma' },
  'red-flag-weight-loss': { da: 'Rødt flag: vægttab', en: 'Red flag: weight loss' },
  'red-flag-immunosuppression': { da: 'Rødt flag: immunsuppression', en: 'Red flag: immunosuppression' },
  'red-flag-cancer': { da: 'Rødt flag: kræft i anamnesen', en: 'Red flag: history of cancer' },
  'red-flag-iv-drug-use': { da: 'Rødt flag: i.v. stofbrug', en: 'Red flag: IV drug use' },
  'red-flag-steroid-use': { da: 'Rødt flag: steroidbehandling', en: 'Red flag: steroid use' },
  'red-flag-osteoporosis': { da: 'Rødt flag: osteoporose', en: 'Red flag: osteoporosis' },
  'red-flag-neuro-deficit': { da: 'Rødt flag: neurologisk udfald', en: 'Red flag: neurological deficit' },
  'red-flag-progressive': { da: 'Rødt flag: progredierende symptomer', en: 'Red flag: progressive symptoms' },
  'wells-likely': { da: 'Wells-score: sandsynlig', en: 'Wells score: likely' },
  'wells-unlikely': { da: 'Wells-score: usandsynlig', en: 'Wells score: unlikely' },
  'perc-done': { da: 'PERC-regel anvendt', en: 'PERC rule applied' },
  'pe-suspected': { da: 'Mistanke om lungeemboli', en: 'Pulmonary embolism suspected' },
  'ctd-signs': { da: 'Tegn på bindevævssygdom', en: 'Signs of connective tissue disease' },
  'suspected-ra': { da: 'Mistanke om reumatoid artrit', en: 'Suspected rheumatoid arthritis' },
  'gca-pmr': { da: 'Kæmpecellearteritis / PMR', en: 'Giant cell arteritis / PMR' },
  myeloma: { da: 'Myelomatose', en: 'Myeloma' },
  'rheumatoid-arthritis': { da: 'Reumatoid artrit', en: 'Rheumatoid arthritis' },
};
