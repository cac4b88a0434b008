/** Public surface of `core/demo`: the pure, seeded generators of the demo region. */
export * from './analysis-catalogue.ts';
export * from './demo-history.ts';
export * from './demo-live.ts';
export * from './demo-messages.ts';
export * from './demo-orderer.ts';
export * from './demo-orders.ts';
export * from './demo-patients.ts';
export * from './demo-random.ts';
export * from './demo-resources.ts';
export * from './demo-staff.ts';
export * from './region-catalogue.ts';
