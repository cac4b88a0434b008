/**
 * The part of `@lhncbc/ucum-lhc` (NLM's UCUM library, CommonJS, no bundled types) that dxhub uses.
 * https://lhncbc.github.io/ucum-lhc/ — `UcumLhcUtils.convertUnitTo` returns `status: 'succeeded'`
 * with `toVal`, or `failed`/`error` with messages (incommensurable or unknown units).
 */
declare module '@lhncbc/ucum-lhc' {
  export interface UcumConvertResult {
    readonly status: 'succeeded' | 'failed' | 'error';
    readonly toVal: number | null;
    readonly msg: readonly string[];
  }
  export interface UcumLhcUtilsInstance {
    convertUnitTo(
      fromUnitCode: string,
      fromVal: number,
      toUnitCode: string,
      options?: { suggest?: boolean; molecularWeight?: number; charge?: number },
    ): UcumConvertResult;
  }
  const ucum: { readonly UcumLhcUtils: { getInstance(): UcumLhcUtilsInstance } };
  export default ucum;
}
