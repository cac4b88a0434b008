/** Public surface of `access`: who may see and change what (docs/security.md). */
export * from './access-control.ts';
export * from './pseudonymise.ts';
export * from './request-guard.ts';
export * from './resource-facts.ts';
export * from './scope-restrictions.ts';
