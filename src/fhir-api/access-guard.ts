import type { SearchRequest } from '../core/fhir/search-request.ts';
import type { FhirInteraction } from '../core/security/fhir-interaction.ts';
import type { WriteContext, WriteInterceptor } from '../store/repository.ts';

/** What access control withheld from a search, after auditing it. */
export interface SearchAudit {
  /** Matches and includes the principal may not see (their content is never sent). */
  readonly withheld: number;
  /** Why entries were withheld, for the searchset's OperationOutcome (no patient data). */
  readonly reason?: string;
}

/**
 * Access control and audit for one request, as the FHIR services call it. The HTTP layer builds
 * one per request from the verified principal; internal callers (ingest workers, tests of the
 * services) pass none and act as the system. Every method throws a 403 {@link FhirError} on
 * refusal, after auditing it.
 */
export interface AccessGuard extends WriteInterceptor {
  /** The principal's scopes allow `interaction` on `resourceType` at all (SMART v2 table). */
  permit(resourceType: string, interaction: FhirInteraction): void;
  /** Narrows a search before it runs (a citizen's own compartment; counts only for aggregate roles). */
  narrowSearch(req: SearchRequest): void;
  /**
   * A resource about to be returned by read, vread or an instance history: refuses it or audits the
   * access (durably, before the answer) and returns the JSON to send (pseudonymised for researchers).
   * `patientKey` is the store's patient key of the version when known (see `StoredVersion.patient`).
   */
  reveal(
    interaction: 'read' | 'vread',
    type: string,
    id: string,
    json: string,
    w?: WriteContext,
    patientKey?: string | null,
  ): Promise<string>;
  /**
   * Search or history results: the JSON to send for each, in order (`undefined` where withheld,
   * pseudonymised for researchers). Remembers the patients seen for {@link auditSearch}.
   */
  screen(list: string[]): Promise<(string | undefined)[]>;
  /** Audits the search (one entry per patient seen since the last call), durably, before the answer. */
  auditSearch(query: string): Promise<SearchAudit>;
  /** Whether a search may report `total` (not when entries were withheld or results span patients unseen). */
  readonly mayCount: boolean;
}
