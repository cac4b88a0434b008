export * from './autoverify.ts';
export * from './derived-values.ts';
export * from './interpretation.ts';
export * from './likelihood.ts';
export * from './reflex.ts';
export * from './rule-set.ts';
export { CODES, RULE_SET_2026_11 } from './rules/rule-set-2026-11.ts';
