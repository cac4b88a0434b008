/** Public surface of `security`: token verification and the embedded issuer. */
export * from './demo-users.ts';
export * from './issuer-keys.ts';
export * from './key-ring.ts';
export * from './local-issuer.ts';
export * from './token-verifier.ts';
