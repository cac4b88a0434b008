import type { Catalogue } from './catalogue.ts';
import { ageText, type Duration, parseDuration, subtractDuration } from './duration.ts';
import type { CatalogueItem, DraftOrder, Finding, PatientContext, Predicate, Rule, RuleSet } from './types.ts';

const DAY = 86_400_000;

/** A validated rule set prepared for evaluation: rules indexed by test, intervals parsed once. */
export interface CompiledRules {
  readonly ruleSet: RuleSet;
  readonly version: number;
  readonly catalogue: Catalogue;
  /** Rules per catalogue id; `*` rules are listed under every item. */
  readonly byTest: ReadonlyMap<string, readonly Rule[]>;
  readonly intervals: ReadonlyMap<string, Duration>;
  /** Analyses a rule reads results of besides the ordered test itself (e.g. eGFR for contrast). */
  readonly extraResultTests: readonly string[];
  readonly needsConditions: boolean;
}

/** Compiles a rule set that {@link validateRuleSet} accepted. */
export function compileRules(ruleSet: RuleSet, catalogue: Catalogue, version: number): CompiledRules {
  const byTest = new Map<string, Rule[]>();
  const intervals = new Map<string, Duration>();
  const extra = new Set<string>();
  let needsConditions = ruleSet.pregnancyConditions.length > 0;
  for (const rule of ruleSet.rules) {
    const tests = rule.tests.includes('*') ? catalogue.items.map((i) => i.id) : rule.tests;
    for (const t of tests) byTest.set(t, [...(byTest.get(t) ?? []), rule]);
    if (rule.kind === 'retest-interval') intervals.set(rule.id, parseDuration(rule.interval)!);
    if (rule.kind === 'contrast-egfr') extra.add(rule.egfrTest);
    if ([...(rule.when ?? []), ...(rule.unless ?? [])].some((p) => p.kind === 'condition' || p.kind === 'pregnant'))
      needsConditions = true;
  }
  return { ruleSet, version, catalogue, byTest, intervals, extraResultTests: [...extra], needsConditions };
}

/** What a predicate reads besides the context: the draft and the other tests of the order set. */
interface Subject {
  readonly order: DraftOrder;
  readonly item: CatalogueItem;
  readonly otherTests: ReadonlySet<string>;
}

export function isPregnant(ctx: PatientContext, ruleSet: RuleSet): boolean {
  return ctx.conditions.some((c) => ruleSet.pregnancyConditions.some((p) => c.startsWith(p)));
}

function holds(p: Predicate, s: Subject, ctx: PatientContext, rs: RuleSet): boolean {
  switch (p.kind) {
    case 'setting':
      return ctx.setting !== undefined && p.in.includes(ctx.setting);
    case 'pregnant':
      return isPregnant(ctx, rs);
    case 'age':
      if (ctx.ageYears === undefined) return false;
      return (
        (p.below === undefined || ctx.ageYears < p.below) && (p.atLeast === undefined || ctx.ageYears >= p.atLeast)
      );
    case 'condition':
      return ctx.conditions.some((c) => p.prefixes.some((x) => c.startsWith(x)));
    case 'indication':
      return s.order.indications.some((c) => p.codes.includes(c));
    case 'onset-within':
      return s.order.onset !== undefined && ctx.now - s.order.onset < p.days * DAY;
    case 'priority':
      return p.in.includes(s.order.priority);
    case 'co-ordered':
      return p.tests.some((t) => s.otherTests.has(t));
  }
}

function inScope(rule: Rule, ctx: PatientContext): boolean {
  const sc = rule.scope;
  if (!sc) return true;
  if (sc.organisations?.length && !(ctx.organisation && sc.organisations.includes(ctx.organisation))) return false;
  if (sc.settings?.length && !(ctx.setting && sc.settings.includes(ctx.setting))) return false;
  return true;
}

type Hit = { evidence?: Record<string, string | number>; note?: { da: string; en: string } };

/** The kind-specific test: undefined when the rule does not fire. */
function fires(rule: Rule, s: Subject, ctx: PatientContext, c: CompiledRules): Hit | undefined {
  switch (rule.kind) {
    case 'retest-interval': {
      const last = ctx.latest.get(s.item.id);
      if (!last || last.at <= subtractDuration(ctx.now, c.intervals.get(rule.id)!)) return undefined;
      const ago = ageText(ctx.now - last.at);
      return {
        evidence: {
          lastResultAt: new Date(last.at).toISOString(),
          observation: `Observation/${last.observationId}`,
          ...(last.value !== undefined ? { lastValue: `${last.value}${last.unit ? ` ${last.unit}` : ''}` } : {}),
        },
        note: { da: `seneste svar for ${ago} siden`, en: `last result ${ago} ago` },
      };
    }
    case 'duplicate-open-order': {
      const dup = ctx.openOrders.find((o) => o.test === s.item.id && o.id !== s.order.id);
      if (!dup) return undefined;
      return {
        evidence: {
          openOrder: `ServiceRequest/${dup.id}`,
          status: dup.status,
          ...(dup.organisation ? { organisation: dup.organisation } : {}),
        },
        note: {
          da: `åben bestilling ${dup.organisation ? `fra ${dup.organisation}` : ''}`.trim(),
          en: `open order${dup.organisation ? ` from ${dup.organisation}` : ''}`,
        },
      };
    }
    case 'appropriateness':
    case 'suggestion':
      return {};
    case 'imaging-cumulative-dose': {
      const dose = s.item.effectiveDoseMSv ?? 0;
      if (dose <= 0) return undefined;
      const since = ctx.now - rule.windowDays * DAY;
      const prior = ctx.priorImaging.filter((o) => (o.performedAt ?? o.authoredOn ?? 0) > since);
      const total = prior.reduce((sum, o) => sum + (c.catalogue.item(o.test)?.effectiveDoseMSv ?? 0), 0) + dose;
      if (total < rule.thresholdMSv) return undefined;
      const t = Math.round(total * 10) / 10;
      return { evidence: { cumulativeMSv: t, priorExams: prior.length }, note: { da: `${t} mSv`, en: `${t} mSv` } };
    }
    case 'imaging-repeat': {
      const since = ctx.now - rule.windowDays * DAY;
      const prior = ctx.priorImaging.find((o) => o.test === s.item.id && (o.performedAt ?? o.authoredOn ?? 0) > since);
      if (!prior) return undefined;
      const ago = ageText(ctx.now - (prior.performedAt ?? prior.authoredOn ?? ctx.now));
      return {
        evidence: { priorExam: `ServiceRequest/${prior.id}` },
        note: { da: `forrige for ${ago} siden`, en: `previous ${ago} ago` },
      };
    }
    case 'contrast-egfr': {
      if (!s.item.contrast) return undefined;
      const egfr = ctx.latest.get(rule.egfrTest);
      const fresh = egfr && egfr.at > ctx.now - rule.maxAgeDays * DAY && egfr.value !== undefined;
      if (!fresh) return rule.missingFires ? { note: { da: 'ingen aktuel eGFR', en: 'no recent eGFR' } } : undefined;
      if (egfr.value! >= rule.below) return undefined;
      return {
        evidence: {
          egfr: egfr.value!,
          egfrAt: new Date(egfr.at).toISOString(),
          observation: `Observation/${egfr.observationId}`,
        },
        note: { da: `eGFR ${egfr.value}`, en: `eGFR ${egfr.value}` },
      };
    }
    case 'pregnancy-ionising':
      return (s.item.effectiveDoseMSv ?? 0) > 0 && isPregnant(ctx, c.ruleSet) ? {} : undefined;
  }
}

const clip = (s: string) => (s.length < 140 ? s : `${s.slice(0, 138)}…`);

/**
 * Evaluates a proposed order set against the patient context. Returns one finding per rule that
 * fires for an order; an empty list means every active rule was evaluated and none fired.
 */
export function evaluateOrders(c: CompiledRules, drafts: readonly DraftOrder[], ctx: PatientContext): Finding[] {
  const findings: Finding[] = [];
  const open = new Set(ctx.openOrders.map((o) => o.test));
  for (const order of drafts) {
    const item = c.catalogue.item(order.test);
    if (!item) continue;
    const otherTests = new Set([...open, ...drafts.filter((d) => d !== order).map((d) => d.test)]);
    const s: Subject = { order, item, otherTests };
    for (const rule of c.byTest.get(item.id) ?? []) {
      if (!inScope(rule, ctx)) continue;
      if (rule.when && !rule.when.every((p) => holds(p, s, ctx, c.ruleSet))) continue;
      if (rule.unless?.some((p) => holds(p, s, ctx, c.ruleSet))) continue;
      const hit = fires(rule, s, ctx, c);
      if (!hit) continue;
      const note = hit.note;
      findings.push({
        rule: rule.id,
        ruleVersion: rule.version,
        kind: rule.kind,
        action: rule.action,
        orderId: order.id,
        test: item.id,
        summary: {
          da: clip(`${item.title.da}: ${rule.title.da}${note?.da ? ` (${note.da})` : ''}`),
          en: clip(`${item.title.en}: ${rule.title.en}${note?.en ? ` (${note.en})` : ''}`),
        },
        detail: rule.message,
        source: rule.source,
        overrideRoles: rule.overrideRoles ?? [],
        ...(rule.suggest ? { suggest: rule.suggest } : {}),
        ...(hit.evidence ? { evidence: hit.evidence } : {}),
      });
    }
  }
  return findings;
}

/** The blocks among findings that the given overrides do not lift (role allowed and reason given). */
export function unliftedBlocks(
  findings: readonly Finding[],
  overrides: readonly { rule: string; reason: string; orderId?: string }[],
  role: string,
): Finding[] {
  return findings.filter(
    (f) =>
      f.action === 'block' &&
      !overrides.some(
        (o) =>
          o.rule === f.rule &&
          (!o.orderId || o.orderId === f.orderId) &&
          o.reason.trim() !== '' &&
          f.overrideRoles.includes(role),
      ),
  );
}
