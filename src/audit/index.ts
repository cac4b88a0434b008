export { installAppendOnlyGuards } from './append-only-guards.ts';
export { AuditJournal, auditJournalOf } from './audit-journal.ts';
export { AUDIT_LOCK, AuditLog, type AuditLogOptions } from './audit-log.ts';
export { type AuditLogQuery, type FoundAuditEntry, readAuditEntry, searchAuditLog } from './search-audit-log.ts';
export { type ChainFailure, type ChainVerdict, type VerifyOptions, verifyAuditChain } from './verify-audit-chain.ts';
export { type CitizenLogEntry, type WhoLookedAtOptions, whoLookedAt } from './who-looked-at.ts';
