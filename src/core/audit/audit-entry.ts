/** What happened. REST interactions follow FHIR R4 `restful-interaction`; the rest are security events. */
export type AuditAction =
  | 'read'
  | 'vread'
  | 'search'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'login'
  | 'logout'
  | 'denied'
  | 'break-glass';

/** Every {@link AuditAction}, for validation at the edge. */
export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'read',
  'vread',
  'search',
  'create',
  'update',
  'patch',
  'delete',
  'login',
  'logout',
  'denied',
  'break-glass',
];

/** FHIR R4 AuditEvent.outcome, by name (`audit-event-outcome`: 0, 4, 8, 12). */
export type AuditOutcome = 'success' | 'minor-failure' | 'serious-failure' | 'major-failure';

/**
 * One auditable event as a service reports it. `patient` is the id of the Patient resource the
 * event concerns (the key of the citizen's "who looked at me" view), never a CPR number.
 */
export interface AuditEntry {
  /** When it happened, ms since the epoch; the log's clock when absent. */
  readonly at?: number;
  readonly action: AuditAction;
  /** Default `success`. */
  readonly outcome?: AuditOutcome;
  /** The user id (token `sub`), or `Practitioner/<id>`. */
  readonly agent: string;
  /** Display name of the user (free text, CPR-masked). */
  readonly agentName?: string;
  /** SOR code of the user's organisation. */
  readonly organisation?: string;
  readonly role?: string;
  /** Purpose of use: a v3-ActReason code (`TREAT`, `ETREAT`, …) or free text. */
  readonly purpose?: string;
  readonly sourceIp?: string;
  /** The client application (OAuth `client_id`). */
  readonly client?: string;
  readonly patient?: string;
  /** The resource read or written, `Type/id` (instance interactions). */
  readonly resource?: string;
  /** The raw search, `Type?param=value…` (search). */
  readonly query?: string;
  /** Free text: the break-glass reason, why access was denied (CPR-masked). */
  readonly detail?: string;
  /** The request's X-Request-Id. */
  readonly requestId?: string;
}

/**
 * The fields of a log row that its hash covers, exactly as stored (absent = null). `event` is the
 * stored JSON text of the FHIR AuditEvent, so verifying never re-serialises it.
 */
export interface AuditFields {
  readonly at: number;
  readonly patient: string | null;
  readonly agent: string;
  readonly organisation: string | null;
  readonly role: string | null;
  readonly action: string;
  readonly outcome: string;
  readonly purpose: string | null;
  readonly sourceIp: string | null;
  readonly event: string;
}

/** A row of the audit log. */
export interface AuditRecord extends AuditFields {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}
