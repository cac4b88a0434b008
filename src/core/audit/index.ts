export * from './audit-chain.ts';
export * from './audit-entry.ts';
export * from './audit-event.ts';
export * from './audit-hash.ts';
export * from './canonical-json.ts';
export * from './mask-cpr.ts';
