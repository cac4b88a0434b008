/**
 * The one error catalogue of dxhub's FHIR layer. Every error a client sees is a {@link FhirError}
 * made here and answered as an OperationOutcome (FHIR R4 §3.1.0.4 / OperationOutcome) by
 * {@link toOperationOutcome}.
 */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'processing'
  | 'not-supported'
  | 'not-found'
  | 'deleted'
  | 'conflict'
  | 'duplicate'
  | 'multiple-matches'
  | 'too-costly'
  | 'security'
  | 'forbidden'
  | 'login'
  | 'exception'
  | 'code-invalid'
  | 'informational'
  | 'too-long'
  | 'business-rule'
  | 'transient'
  | 'throttled';

/** One issue of an OperationOutcome. */
export interface OutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: IssueType | string;
  diagnostics?: string;
  expression?: string[];
}

/** An error with its HTTP status and OperationOutcome issues. */
export class FhirError extends Error {
  readonly status: number;
  readonly issues: OutcomeIssue[];
  constructor(status: number, issues: OutcomeIssue[]) {
    super(issues.map((i) => i.diagnostics).join('; '));
    this.status = status;
    this.issues = issues;
  }
}

const err = (status: number, code: IssueType, diagnostics: string, expression?: string) =>
  new FhirError(status, [
    { severity: 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) },
  ]);

/** The catalogue: every error the FHIR layer raises. */
export const Errors = {
  badRequest: (msg: string, expression?: string) => err(400, 'invalid', msg, expression),
  malformedJson: (detail: string) => err(400, 'structure', `Malformed JSON: ${detail}`),
  unsupportedMediaType: (type: string) =>
    err(415, 'not-supported', `Unsupported content type '${type}': use application/fhir+json or application/json`),
  notAcceptable: (type: string) =>
    err(406, 'not-supported', `Cannot produce '${type}': dxhub serves application/fhir+json`),
  bodyTooLarge: (limit: number) => err(413, 'too-long', `Request body exceeds the limit of ${limit} bytes`),
  unknownType: (type: string) => err(404, 'not-supported', `Unknown resource type '${type}'`),
  notFound: (type: string, id: string) => err(404, 'not-found', `${type}/${id} not found`),
  versionNotFound: (type: string, id: string, vid: string) =>
    err(404, 'not-found', `${type}/${id}/_history/${vid} not found`),
  gone: (type: string, id: string) => err(410, 'deleted', `${type}/${id} has been deleted`),
  idMismatch: (urlId: string, bodyId: string | undefined) =>
    err(400, 'invalid', `Resource id '${bodyId ?? '(none)'}' does not match the URL id '${urlId}'`, 'id'),
  typeMismatch: (urlType: string, bodyType: unknown) =>
    err(400, 'invalid', `Resource type '${String(bodyType)}' does not match the URL type '${urlType}'`, 'resourceType'),
  invalidId: (id: string) => err(400, 'invalid', `Invalid resource id '${id}': 1–64 of [A-Za-z0-9-.]`, 'id'),
  versionConflict: (expected: string, actual: number) =>
    err(412, 'conflict', `Version conflict: If-Match expects version ${expected}, the current version is ${actual}`),
  preconditionFailed: (msg: string) => err(412, 'multiple-matches', msg),
  unknownSearchParam: (type: string, name: string) =>
    err(400, 'not-supported', `Unknown search parameter '${name}' for ${type}`, name),
  invalidSearchValue: (name: string, value: string, why: string) =>
    err(400, 'invalid', `Invalid value '${value}' for search parameter '${name}': ${why}`, name),
  invalidModifier: (name: string, modifier: string) =>
    err(400, 'not-supported', `Modifier ':${modifier}' is not supported on search parameter '${name}'`, name),
  invalidPatch: (why: string) => err(422, 'processing', `JSON Patch cannot be applied: ${why}`),
  invalidResource: (issues: OutcomeIssue[]) => new FhirError(400, issues),
  duplicateIdentifier: (type: string, system: string, value: string, otherId: string) =>
    err(409, 'duplicate', `${type}/${otherId} already has identifier ${system}|${value}`, 'identifier'),
  forbidden: (why: string) => err(403, 'forbidden', `Access denied: ${why}`),
  unauthenticated: (why: string) => err(401, 'login', why),
  throttled: (why: string) => err(429, 'throttled', why),
  notSupported: (what: string) => err(501, 'not-supported', `${what} is not supported`),
  methodNotAllowed: (what: string) => err(405, 'not-supported', `${what} is not allowed`),
  invalidBundle: (why: string, expression?: string) => err(400, 'invalid', `Invalid Bundle: ${why}`, expression),
  transactionFailed: (index: number, cause: FhirError) =>
    new FhirError(cause.status, [
      ...cause.issues.map((i) => ({ ...i, expression: [`Bundle.entry[${index}]`, ...(i.expression ?? [])] })),
    ]),
  internal: (requestId: string) => err(500, 'exception', `Internal error (request ${requestId}); see the server log`),
} as const;

/** Renders an error as an R4 OperationOutcome resource. */
export function toOperationOutcome(error: FhirError): { resourceType: 'OperationOutcome'; issue: OutcomeIssue[] } {
  return { resourceType: 'OperationOutcome', issue: error.issues };
}

/** An informational OperationOutcome, e.g. for a successful delete. */
export function infoOutcome(diagnostics: string): { resourceType: 'OperationOutcome'; issue: OutcomeIssue[] } {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics }] };
}
