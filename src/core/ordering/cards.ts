import type { Catalogue } from './catalogue.ts';
import type { Coding, Finding, RuleAction, RuleSet } from './types.ts';

/** CDS Hooks 2.0 card indicator per rule action (research note §7.5: block → critical). */
const INDICATOR: Record<RuleAction, 'info' | 'warning' | 'critical'> = {
  info: 'info',
  warning: 'warning',
  block: 'critical',
};

/** The CodeSystem that names dxhub's rules in `card.source.topic`. */
export const RULE_TOPIC_SYSTEM = 'urn:dxhub:ordering:rule';

export interface CdsAction {
  type: 'create' | 'update' | 'delete';
  description: string;
  resource?: Record<string, unknown>;
  resourceId?: string;
}
export interface CdsSuggestion {
  label: string;
  uuid: string;
  isRecommended?: boolean;
  actions: CdsAction[];
}
/** A CDS Hooks 2.0 Card (https://cds-hooks.hl7.org/2.0/#card-attributes). */
export interface CdsCard {
  uuid: string;
  summary: string;
  detail: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; topic: Coding };
  suggestions?: CdsSuggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: Coding[];
  /** CDS Hooks 2.0 §Extensions: {@link CARD_EXTENSION} tells a client which rule, order and roles. */
  extension?: Record<string, unknown>;
}

/**
 * The card extension (CDS Hooks 2.0 §Extensions) dxhub adds to every card: the rule and its action,
 * the draft order (`ServiceRequest` id in `draftOrders`) and catalogue test it is about, and for a
 * block the roles that may override it — what an order-entry client needs to offer a reason field
 * only where the server will accept one. Clients that do not know it ignore it.
 */
export const CARD_EXTENSION = 'dk.dxhub.ordering';

/**
 * Builds one card per finding. `newId` makes card and suggestion uuids (the feedback endpoint
 * reports against them). A blocked or warned draft gets a delete action on its ServiceRequest;
 * a replacement adds a create action for the better test in the same suggestion (applied together,
 * CDS Hooks §Suggestion: actions of one suggestion are one unit).
 */
export function buildCards(
  findings: readonly Finding[],
  ruleSet: RuleSet,
  catalogue: Catalogue,
  lang: 'da' | 'en',
  patientId: string,
  newId: () => string,
): CdsCard[] {
  return findings.map((f) => {
    const src = f.source;
    const evidence = f.evidence
      ? `\n\n${Object.entries(f.evidence)
          .map(([k, v]) => `- ${k}: ${v}`)
          .join('\n')}`
      : '';
    const overrideHint =
      f.action === 'block'
        ? lang === 'da'
          ? `\n\nSpærring: kan kun tilsidesættes af ${f.overrideRoles.join(', ')} med begrundelse.`
          : `\n\nBlock: may be overridden only by ${f.overrideRoles.join(', ')}, with a reason.`
        : '';
    const card: CdsCard = {
      uuid: newId(),
      summary: f.summary[lang],
      detail: `${f.detail[lang]}${evidence}\n\n${lang === 'da' ? 'Kilde' : 'Source'}: ${src.label}${src.ref ? `, ${src.ref}` : ''}${overrideHint}`,
      indicator: INDICATOR[f.action],
      source: {
        label: src.label,
        ...(src.url ? { url: src.url } : {}),
        topic: { system: RULE_TOPIC_SYSTEM, code: f.rule, display: `${f.rule} v${f.ruleVersion}` },
      },
      extension: {
        [CARD_EXTENSION]: {
          rule: f.rule,
          action: f.action,
          orderId: f.orderId,
          test: f.test,
          ...(f.action === 'block' ? { overrideRoles: [...f.overrideRoles] } : {}),
        },
      },
    };
    const suggestions = suggestionsFor(f, catalogue, lang, patientId, newId);
    if (suggestions.length > 0) {
      card.suggestions = suggestions;
      card.selectionBehavior = 'at-most-one';
    }
    if (f.action !== 'info') card.overrideReasons = ruleSet.overrideReasons.map((c) => ({ ...c }));
    return card;
  });
}

function suggestionsFor(
  f: Finding,
  cat: Catalogue,
  lang: 'da' | 'en',
  patientId: string,
  newId: () => string,
): CdsSuggestion[] {
  const remove: CdsAction = {
    type: 'delete',
    description: lang === 'da' ? 'Fjern den foreslåede bestilling' : 'Remove the proposed order',
    resourceId: `ServiceRequest/${f.orderId}`,
  };
  const create = (test: string): CdsAction | undefined => {
    const item = cat.item(test);
    if (!item) return undefined;
    return {
      type: 'create',
      description: `${lang === 'da' ? 'Bestil' : 'Order'} ${item.title[lang]}`,
      resource: {
        resourceType: 'ServiceRequest',
        status: 'draft',
        intent: 'order',
        code: { coding: [item.code], text: item.title[lang] },
        subject: { reference: `Patient/${patientId}` },
      },
    };
  };
  const s = f.suggest;
  if (s?.replaceWith) {
    const c = create(s.replaceWith);
    return [{ label: s.label[lang], uuid: newId(), isRecommended: true, actions: c ? [remove, c] : [remove] }];
  }
  if (s?.add) {
    const actions = s.add.map(create).filter((a): a is CdsAction => a !== undefined);
    return [{ label: s.label[lang], uuid: newId(), isRecommended: true, actions }];
  }
  if (f.action === 'block' || s) {
    return [
      {
        label: s?.label[lang] ?? (lang === 'da' ? 'Fjern bestillingen' : 'Remove the order'),
        uuid: newId(),
        isRecommended: true,
        actions: [remove],
      },
    ];
  }
  return [];
}
