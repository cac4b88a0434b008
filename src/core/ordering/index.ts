export * from './cards.ts';
export * from './catalogue.ts';
export * from './data/catalogue.ts';
export * from './data/rule-set.ts';
export * from './duration.ts';
export * from './engine.ts';
export * from './funnel.ts';
export * from './rule-validation.ts';
export type * from './types.ts';
