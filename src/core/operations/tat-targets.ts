/**
 * Turnaround targets, as data a region approves (CONVENTIONS §7): per analysis code (or `*`),
 * priority (or `*`) and interval, a deadline and the share of orders that should meet it. The
 * first matching entry applies (specific before general). Sources are the operations research
 * note (../shared/research/operations-and-ai.md, table A3 and sources [2], [14]).
 */
export interface TatTarget {
  /** Analysis code (`ServiceRequest.code`), or `*`. */
  readonly analysis: string;
  /** Order priority, or `*`. */
  readonly priority: string;
  /** An interval name of `INTERVALS`. */
  readonly interval: string;
  readonly minutes: number;
  /** Share (%) of orders that should be within `minutes`. */
  readonly goalPercent: number;
  readonly source: string;
}

export const DEFAULT_TAT_TARGETS: readonly TatTarget[] = [
  {
    // NPU27501 Troponin T (hjertemuskel) massek., verified in identity-and-terminology.md §3.
    analysis: 'NPU27501',
    priority: '*',
    interval: 'collection-to-report',
    minutes: 60,
    goalPercent: 90,
    source:
      'NACB troponin TAT recommendation (< 60 min collection→report in > 90 %), as summarised by Mayo Medical Laboratories Hot Topic 2010; operations-and-ai.md A3 [14]',
  },
  ...(['stat', 'asap', 'urgent'] as const).map((priority) => ({
    analysis: '*',
    priority,
    interval: 'receipt-to-report',
    minutes: 60,
    goalPercent: 90,
    source:
      'Hawkins RC. Laboratory turnaround time. Clin Biochem Rev 2007;28:179–194: first goal 90 % of common tests reported < 60 min after registration; operations-and-ai.md A1 [2]',
  })),
];

/** The target for an analysis, priority and interval, if any. */
export function targetFor(
  targets: readonly TatTarget[],
  analysis: string,
  priority: string,
  interval: string,
): TatTarget | undefined {
  return targets.find(
    (t) =>
      t.interval === interval &&
      (t.analysis === '*' || t.analysis === analysis) &&
      (t.priority === '*' || t.priority === priority),
  );
}

/** Checks a region's target file: every entry complete, positive and cited. Returns the problems. */
export function validateTargets(targets: readonly TatTarget[], intervals: readonly string[]): string[] {
  const problems: string[] = [];
  targets.forEach((t, i) => {
    if (!intervals.includes(t.interval)) problems.push(`target ${i}: unknown interval '${t.interval}'`);
    if (!(t.minutes > 0)) problems.push(`target ${i}: minutes must be > 0`);
    if (!(t.goalPercent > 0 && t.goalPercent <= 100)) problems.push(`target ${i}: goalPercent must be in (0, 100]`);
    if (!t.source?.trim()) problems.push(`target ${i}: a source is required`);
    if (!t.analysis || !t.priority) problems.push(`target ${i}: analysis and priority are required ('*' for any)`);
  });
  return problems;
}
