/** Public surface of `core/identity`: pure CPR and replacement-CPR functions. */
export * from './calendar-date.ts';
export * from './classify-person-identifier.ts';
export * from './cpr.ts';
export * from './cpr-century.ts';
export * from './cpr-modulus11.ts';
export * from './identifier-systems.ts';
export * from './identity-problem.ts';
export * from './next-replacement-cpr.ts';
export * from './person-identifier.ts';
export * from './replacement-cpr.ts';
export * from './synthetic-cpr.ts';
