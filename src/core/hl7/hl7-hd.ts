/** An HD hierarchic designator (HL7 v2.5.1 ch. 2A, HD data type). */
export interface Hl7Hd {
  /** HD.1 namespace ID (local name). */
  readonly namespaceId?: string;
  /** HD.2 universal ID (e.g. an OID). */
  readonly universalId?: string;
  /** HD.3 universal ID type (table 0301: ISO, DNS, UUID …). */
  readonly universalIdType?: string;
}

/**
 * Builds an HD from its three parts. An HD is a field's components (MSH-3) or, inside another
 * type, a component's subcomponents (CX.4), so the caller passes the decoded parts.
 */
export function hdFromParts(parts: readonly string[]): Hl7Hd | undefined {
  const [namespaceId = '', universalId = '', universalIdType = ''] = parts;
  if (namespaceId === '' && universalId === '' && universalIdType === '') return undefined;
  return {
    ...(namespaceId ? { namespaceId } : {}),
    ...(universalId ? { universalId } : {}),
    ...(universalIdType ? { universalIdType } : {}),
  };
}
