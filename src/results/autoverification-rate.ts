import type { SqlExecutor } from '../store/dialect/dialect.ts';

/** The outcome row of one processed Observation (table `result_outcome`). */
export interface OutcomeRow {
  readonly observationId: string;
  readonly analysis: string;
  readonly section: string;
  readonly outcome: 'autoverified' | 'held' | 'released' | 'rejected' | 'upstream';
  readonly ruleSet: string;
  readonly at: number;
}

/** Records (or moves on) Observations' outcomes, 200 rows a statement; the first processing time is kept. */
export async function recordOutcomes(tx: SqlExecutor, rows: readonly OutcomeRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    await tx.run(
      `INSERT INTO result_outcome (observation_id, analysis, section, outcome, rule_set, processed_at, decided_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (observation_id) DO UPDATE SET outcome = excluded.outcome, rule_set = excluded.rule_set, decided_at = excluded.decided_at`,
      chunk.flatMap((r) => [r.observationId, r.analysis, r.section, r.outcome, r.ruleSet, r.at, r.at]),
    );
  }
}

/** Autoverification figures of one analysis in one section. */
export interface RateRow {
  readonly section: string;
  readonly analysis: string;
  readonly total: number;
  readonly autoverified: number;
  readonly held: number;
  readonly released: number;
  readonly rejected: number;
  /** autoverified / total of results that arrived unverified (upstream-final results excluded). */
  readonly rate: number;
}

/**
 * The autoverification rate per section and analysis for results first processed in [from, to):
 * `held` counts results still waiting; released and rejected ones were held first.
 */
export async function autoverificationRate(db: SqlExecutor, from: number, to: number): Promise<RateRow[]> {
  const rows = await db.all<{ section: string; analysis: string; outcome: string; n: number }>(
    `SELECT section, analysis, outcome, COUNT(*) AS n FROM result_outcome
     WHERE processed_at >= ? AND processed_at < ? AND outcome <> 'upstream'
     GROUP BY section, analysis, outcome`,
    [from, to],
  );
  const by = new Map<string, { section: string; analysis: string; counts: Record<string, number> }>();
  for (const r of rows) {
    const key = `${r.section}\u0000${r.analysis}`;
    const e = by.get(key) ?? { section: r.section, analysis: r.analysis, counts: {} };
    e.counts[r.outcome] = Number(r.n);
    by.set(key, e);
  }
  const out: RateRow[] = [];
  for (const { section, analysis, counts } of by.values()) {
    const [autoverified = 0, held = 0, released = 0, rejected = 0] = [
      'autoverified',
      'held',
      'released',
      'rejected',
    ].map((k) => counts[k]);
    const total = autoverified + held + released + rejected;
    out.push({
      section,
      analysis,
      total,
      autoverified,
      held,
      released,
      rejected,
      rate: total ? autoverified / total : 0,
    });
  }
  return out.sort((a, b) => a.section.localeCompare(b.section) || a.analysis.localeCompare(b.analysis));
}

/** Section totals from per-analysis rows. */
export function sectionTotals(rows: readonly RateRow[]): RateRow[] {
  const by = new Map<string, RateRow>();
  for (const r of rows) {
    const s = by.get(r.section);
    const sum = (k: 'total' | 'autoverified' | 'held' | 'released' | 'rejected') => (s?.[k] ?? 0) + r[k];
    const total = sum('total');
    const autoverified = sum('autoverified');
    by.set(r.section, {
      section: r.section,
      analysis: '*',
      total,
      autoverified,
      held: sum('held'),
      released: sum('released'),
      rejected: sum('rejected'),
      rate: total ? autoverified / total : 0,
    });
  }
  return [...by.values()];
}
