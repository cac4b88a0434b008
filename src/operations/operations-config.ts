import { DEFAULT_DETECTOR, type DetectorSettings } from '../core/operations/bottleneck-detector.ts';
import { DEFAULT_SILENCE, type SilenceSettings } from '../core/operations/interface-silence.ts';
import { INTERVALS } from '../core/operations/stages.ts';
import { DEFAULT_TAT_TARGETS, type TatTarget, validateTargets } from '../core/operations/tat-targets.ts';

/** Capacity of a section or instrument: results per hour it can produce (the region's figure). */
export interface Capacity {
  /** A section's SOR code, or an instrument name. */
  readonly unit: string;
  readonly resultsPerHour: number;
  readonly source: string;
}

/** What management information is measured against: a region's configuration. */
export interface OperationsConfig {
  readonly targets: readonly TatTarget[];
  readonly capacity: readonly Capacity[];
  readonly detector: DetectorSettings;
  readonly silence: SilenceSettings;
  /** Share of a target's deadline after which an open order is "at risk" (default 0.75). */
  readonly atRiskShare: number;
  /** Open orders older than this are not counted as work in progress (ms, default 30 days). */
  readonly staleAfterMs: number;
  /** Bottleneck detector tick (ms of clock time, default 5 min). */
  readonly tickMs: number;
}

export const DEFAULT_OPERATIONS_CONFIG: OperationsConfig = {
  targets: DEFAULT_TAT_TARGETS,
  capacity: [],
  detector: DEFAULT_DETECTOR,
  silence: DEFAULT_SILENCE,
  atRiskShare: 0.75,
  staleAfterMs: 30 * 86_400_000,
  tickMs: 5 * 60_000,
};

/**
 * Reads a region's configuration (JSON: any of the fields above) over the defaults, refusing
 * targets without a source or with unknown intervals, and capacities that are not positive.
 */
export function operationsConfigFrom(json: unknown): OperationsConfig {
  if (json === undefined) return DEFAULT_OPERATIONS_CONFIG;
  if (typeof json !== 'object' || json === null) throw new Error('operations configuration must be a JSON object');
  const c = { ...DEFAULT_OPERATIONS_CONFIG, ...(json as Partial<OperationsConfig>) };
  const problems = validateTargets(
    c.targets,
    INTERVALS.map((i) => i.name),
  );
  c.capacity.forEach((cap, i) => {
    if (!cap.unit || !(cap.resultsPerHour > 0))
      problems.push(`capacity ${i}: unit and resultsPerHour > 0 are required`);
    if (!cap.source?.trim()) problems.push(`capacity ${i}: a source is required`);
  });
  if (problems.length > 0) throw new Error(`operations configuration: ${problems.join('; ')}`);
  return c;
}
