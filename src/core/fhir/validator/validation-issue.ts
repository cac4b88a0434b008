/** One problem found in a resource, shaped to become an OperationOutcome.issue. */
export interface ValidationIssue {
  severity: 'error' | 'warning';
  /**
   * OperationOutcome issue-type codes: `structure` (unknown property, wrong JSON shape, empty
   * element), `required` (missing element), `value` (bad primitive), `code-invalid` (required
   * binding), `invalid` (invariant or resource-type mismatch), `not-supported` (unknown resource type).
   */
  code: 'structure' | 'required' | 'value' | 'code-invalid' | 'invalid' | 'not-supported';
  /** FHIRPath-style location with indexes, e.g. `Bundle.entry[2].resource.status`. */
  expression: string;
  diagnostics: string;
}
