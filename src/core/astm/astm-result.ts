import type { AstmRecord } from './astm-record.ts';
import { type AstmTestId, astmTestIdFrom } from './astm-test-id.ts';

/** Typed view of a result record (E1394 / LIS02-A2 R record). */
export interface AstmResult {
  readonly sequence: string;
  /** R-3 universal test ID. */
  readonly testId: AstmTestId;
  /** measurement value, trimmed (Sysmex right-aligns values with spaces). */
  readonly value: string;
  /** R-4 all components (some analyzers add interpretation or raw signal). */
  readonly valueComponents: readonly string[];
  /** units. */
  readonly units: string;
  /** reference range text as sent (e.g. `84.0 - 94.0`, `70 to 105`). */
  readonly referenceRange: string;
  /** R-7 abnormal flags from every repetition and component (L, H, LL, HH, <, >, N, A; ARCHITECT sends `EXP^<`). */
  readonly abnormalFlags: readonly string[];
  /** R-8 nature of abnormality testing. */
  readonly natureOfAbnormality: string;
  /** R-9 result status (F final, C correction, P preliminary, R previously transmitted, X cannot be done …). */
  readonly status: string;
  /** R-11 operator identification. */
  readonly operator: string;
  /** R-12 date-time test started, R-13 date-time test completed, as sent. */
  readonly startedDateTime: string;
  readonly completedDateTime: string;
  /** instrument identification. */
  readonly instrumentId: string;
}

/** Reads an R record. */
export function readAstmResult(r: AstmRecord): AstmResult {
  const value = r.components(4).map((c) => c.trim());
  return {
    sequence: r.get(2),
    testId: astmTestIdFrom(r.components(3)),
    value: value[0] ?? '',
    valueComponents: value,
    units: r.get(5).trim(),
    referenceRange: r.get(6).trim(),
    abnormalFlags: r
      .repetitions(7)
      .flat()
      .map((f) => f.trim())
      .filter((f) => f !== ''),
    natureOfAbnormality: r.get(8),
    status: r.get(9).trim(),
    operator: r.get(11).trim(),
    startedDateTime: r.get(12),
    completedDateTime: r.get(13),
    instrumentId: r.get(14).trim(),
  };
}
