import type { InterpretationCode } from './interpretation.ts';
import { type Code, codeKey, type ReflexRule, type RuleSet } from './rule-set.ts';

/** The reflex rules a result fires: `outside-reference` fires on L, H, LL and HH. */
export function reflexesFor(rules: RuleSet, code: Code, interpretation: InterpretationCode | undefined): ReflexRule[] {
  return rules.reflex.filter((r) => {
    switch (r.kind) {
      case 'outside-reference':
        return (
          codeKey(r.trigger) === codeKey(code) &&
          interpretation !== undefined &&
          interpretation !== 'N' &&
          interpretation !== 'A'
        );
    }
  });
}
