import type { InterpretationCode } from './interpretation.ts';
import { type Code, codeKey, type ReflexRule, type RuleSet } from './rule-set.ts';

/** The reflex rules a result fires: `outside-reference` fires on L, H, LL and HH. */
export function reflexesFor(rules: RuleSet, code: Code, interpretation: InterpretationCode | undefined): ReflexRule[] {
  const outsideReference = interpretation !== undefined && interpretation !== 'N' && interpretation !== 'A';
  return rules.reflex.filter(
    (r) => r.kind === 'outside-reference' && outsideReference && codeKey(r.trigger) === codeKey(code),
  );
}
