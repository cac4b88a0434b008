export * from './autoverify.ts';
export { CODES, RULE_SET_2026_11 } from './data/rule-set-2026-11.ts';
export * from './derived-values.ts';
export * from './interpretation.ts';
export * from './likelihood.ts';
export * from './reflex.ts';
export * from './rule-set.ts';
