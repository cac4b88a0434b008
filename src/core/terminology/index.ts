/** Terminology: per-sender ConceptMaps applied to mapped results, UCUM conversion. Pure, no I/O. */
export {
  applyConceptMaps,
  applyConceptMapsInPlace,
  type ConceptMapResult,
  LOCAL_SYSTEM_PREFIX,
  MAPPED_BY_EXTENSION,
  ORIGINAL_QUANTITY_EXTENSION,
  type UnitConverter,
  type UnmappedLocalCode,
} from './apply-concept-maps.ts';
export {
  APPLIED_EQUIVALENCES,
  type CodeMapping,
  ConceptMapIndex,
  type MappedCoding,
  TARGET_UNIT_PROPERTY,
} from './concept-map-index.ts';
export { convertUcum, significantDigits, type UcumConversion } from './ucum-convert.ts';
