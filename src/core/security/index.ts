/** Public surface of `core/security`: SMART scopes, FHIR interaction classification, roles (pure). */
export * from './auth-failure.ts';
export * from './fhir-interaction.ts';
export * from './principal.ts';
export * from './roles.ts';
export * from './scope-problem.ts';
export * from './smart-scopes.ts';
