/**
 * A universal test ID (E1394 / LIS02-A2 O-5, R-3, Q-5): `universal ID ^ name ^ type ^ manufacturer's
 * local code ^ …` with further manufacturer-defined components.
 */
export interface AstmTestId {
  readonly universalId: string;
  readonly name: string;
  readonly type: string;
  readonly localCode: string;
  /** Components 5 and later (dilution, assay version, LOINC …), vendor-defined. */
  readonly extra: readonly string[];
  /**
   * The code to map on: the local code, else the first non-empty later component (Sysmex puts the
   * parameter in component 5), else the universal ID, else the name (mock instruments send a bare
   * code in component 1).
   */
  readonly code: string;
}

/** Reads a universal test ID from decoded components. */
export function astmTestIdFrom(components: readonly string[]): AstmTestId {
  const [universalId = '', name = '', type = '', localCode = '', ...extra] = components.map((c) => c.trim());
  const code = localCode || extra.find((c) => c !== '') || universalId || name;
  return { universalId, name, type, localCode, extra, code };
}
