import type { Catalogue } from './catalogue.ts';
import { parseDuration } from './duration.ts';
import type { Predicate, Rule, RuleSet } from './types.ts';

export type RuleSetValidation = { ok: true; ruleSet: RuleSet } | { ok: false; errors: string[] };

const KINDS: ReadonlySet<string> = new Set<Rule['kind']>([
  'retest-interval',
  'duplicate-open-order',
  'appropriateness',
  'imaging-cumulative-dose',
  'imaging-repeat',
  'contrast-egfr',
  'pregnancy-ionising',
  'suggestion',
]);
const ACTIONS = new Set(['info', 'warning', 'block']);
const SETTINGS = new Set(['inpatient', 'icu', 'emergency', 'outpatient', 'primary-care']);
const PRIORITIES = new Set(['routine', 'urgent', 'stat']);
/** Roles that order or review orders (src/core/security/roles.ts); others may not override. */
const OVERRIDE_ROLES = new Set(['clinician', 'lab-physician', 'radiologist', 'radiographer', 'lab-technologist']);
const ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown) =>
  isObj(v) && typeof v.da === 'string' && v.da !== '' && typeof v.en === 'string' && v.en !== '';
const isStrings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
const isNum = (v: unknown, min = 0) => typeof v === 'number' && Number.isFinite(v) && v >= min;

function checkPredicate(p: unknown, at: string, cat: Catalogue, errors: string[]): void {
  if (!isObj(p)) return void errors.push(`${at}: a predicate must be an object`);
  const k = p.kind as Predicate['kind'];
  switch (k) {
    case 'setting':
      if (!isStrings(p.in) || !(p.in as string[]).every((s) => SETTINGS.has(s)))
        errors.push(`${at}: setting.in must list settings from ${[...SETTINGS].join(', ')}`);
      return;
    case 'pregnant':
      return;
    case 'age':
      if ((p.below !== undefined && !isNum(p.below)) || (p.atLeast !== undefined && !isNum(p.atLeast)))
        errors.push(`${at}: age.below/atLeast must be non-negative numbers`);
      if (p.below === undefined && p.atLeast === undefined) errors.push(`${at}: age needs below or atLeast`);
      return;
    case 'condition':
      if (!isStrings(p.prefixes) || (p.prefixes as string[]).length === 0)
        errors.push(`${at}: condition.prefixes must be a non-empty list of codes`);
      return;
    case 'indication':
      if (!isStrings(p.codes) || (p.codes as string[]).length === 0)
        errors.push(`${at}: indication.codes must be a non-empty list of codes`);
      return;
    case 'onset-within':
      if (!isNum(p.days, 1)) errors.push(`${at}: onset-within.days must be a positive number`);
      return;
    case 'priority':
      if (!isStrings(p.in) || !(p.in as string[]).every((s) => PRIORITIES.has(s)))
        errors.push(`${at}: priority.in must list routine, urgent or stat`);
      return;
    case 'co-ordered':
      if (!isStrings(p.tests) || !(p.tests as string[]).every((t) => cat.item(t)))
        errors.push(`${at}: co-ordered.tests must be catalogue ids`);
      return;
    default:
      errors.push(`${at}: unknown predicate kind '${String(k)}'`);
  }
}

function checkRule(r: unknown, at: string, cat: Catalogue, errors: string[]): void {
  if (!isObj(r)) return void errors.push(`${at}: a rule must be an object`);
  const id = typeof r.id === 'string' ? r.id : '';
  const where = `${at} (${id || 'no id'})`;
  if (!ID_RE.test(id)) errors.push(`${where}: id must be 1–64 of [a-z0-9-]`);
  if (!Number.isInteger(r.version) || (r.version as number) < 1)
    errors.push(`${where}: version must be a positive integer`);
  if (!KINDS.has(r.kind as string)) errors.push(`${where}: unknown kind '${String(r.kind)}'`);
  if (!ACTIONS.has(r.action as string)) errors.push(`${where}: action must be info, warning or block`);
  if (!isText(r.title)) errors.push(`${where}: title needs da and en`);
  if (!isText(r.message)) errors.push(`${where}: message needs da and en`);
  if (!isObj(r.source) || typeof r.source.label !== 'string' || r.source.label.trim() === '')
    errors.push(`${where}: source.label (the citation) is required`);
  if (
    r.overrideRoles !== undefined &&
    (!isStrings(r.overrideRoles) || !(r.overrideRoles as string[]).every((x) => OVERRIDE_ROLES.has(x)))
  )
    errors.push(`${where}: overrideRoles must be roles from ${[...OVERRIDE_ROLES].join(', ')}`);
  if (r.action === 'block' && !(isStrings(r.overrideRoles) && (r.overrideRoles as string[]).length > 0))
    errors.push(`${where}: a block must name the roles that may override it (overrideRoles)`);
  if (!isStrings(r.tests) || (r.tests as string[]).length === 0)
    errors.push(`${where}: tests must be a non-empty list`);
  else for (const t of r.tests as string[]) if (t !== '*' && !cat.item(t)) errors.push(`${where}: unknown test '${t}'`);
  for (const [i, p] of (Array.isArray(r.when) ? r.when : []).entries())
    checkPredicate(p, `${where}.when[${i}]`, cat, errors);
  for (const [i, p] of (Array.isArray(r.unless) ? r.unless : []).entries())
    checkPredicate(p, `${where}.unless[${i}]`, cat, errors);
  if (r.scope !== undefined) {
    const s = r.scope as Obj;
    if (
      !isObj(s) ||
      (s.settings !== undefined && !(isStrings(s.settings) && (s.settings as string[]).every((x) => SETTINGS.has(x))))
    )
      errors.push(`${where}: scope.settings must list known settings`);
    else if (s.organisations !== undefined && !isStrings(s.organisations))
      errors.push(`${where}: scope.organisations must be SOR codes`);
  }
  if (r.suggest !== undefined) {
    const s = r.suggest as Obj;
    if (!isObj(s) || !isText(s.label)) errors.push(`${where}: suggest.label needs da and en`);
    else {
      if (s.replaceWith !== undefined && !cat.item(String(s.replaceWith)))
        errors.push(`${where}: suggest.replaceWith is not a catalogue id`);
      if (s.add !== undefined && !(isStrings(s.add) && (s.add as string[]).every((t) => cat.item(t))))
        errors.push(`${where}: suggest.add must be catalogue ids`);
    }
  }
  switch (r.kind as Rule['kind']) {
    case 'retest-interval':
      if (typeof r.interval !== 'string' || !parseDuration(r.interval))
        errors.push(`${where}: interval must be an ISO 8601 duration such as PT24H, P4D, P2M, P3Y`);
      break;
    case 'imaging-cumulative-dose':
      if (!isNum(r.windowDays, 1) || !isNum(r.thresholdMSv, 0.001))
        errors.push(`${where}: windowDays and thresholdMSv must be positive`);
      break;
    case 'imaging-repeat':
      if (!isNum(r.windowDays, 1)) errors.push(`${where}: windowDays must be positive`);
      break;
    case 'contrast-egfr':
      if (!cat.item(String(r.egfrTest))) errors.push(`${where}: egfrTest must be a catalogue id`);
      if (!isNum(r.below) || !isNum(r.maxAgeDays, 1) || typeof r.missingFires !== 'boolean')
        errors.push(`${where}: below, maxAgeDays and missingFires are required`);
      break;
    default:
      break;
  }
}

/**
 * Validates a rule set against the catalogue. Every problem is reported (with the rule's index and
 * id), so that an author fixes them in one round; a set with any error is refused as a whole.
 */
export function validateRuleSet(input: unknown, cat: Catalogue): RuleSetValidation {
  const errors: string[] = [];
  if (!isObj(input)) return { ok: false, errors: ['a rule set must be a JSON object'] };
  if (typeof input.name !== 'string' || input.name === '') errors.push('name is required');
  if (!isStrings(input.pregnancyConditions))
    errors.push('pregnancyConditions must be a list of condition code prefixes');
  if (
    !Array.isArray(input.overrideReasons) ||
    !input.overrideReasons.every(
      (c) => isObj(c) && typeof c.code === 'string' && typeof c.system === 'string' && typeof c.display === 'string',
    )
  )
    errors.push('overrideReasons must be Codings with system, code and display');
  if (!Array.isArray(input.rules) || input.rules.length === 0) errors.push('rules must be a non-empty list');
  else {
    const seen = new Set<string>();
    input.rules.forEach((r, i) => {
      checkRule(r, `rules[${i}]`, cat, errors);
      const id = isObj(r) ? String(r.id) : '';
      if (seen.has(id)) errors.push(`rules[${i}]: duplicate rule id '${id}'`);
      seen.add(id);
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, ruleSet: input as unknown as RuleSet };
}
