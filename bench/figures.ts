import type { BenchDialect } from './databases.ts';

/** A goal a figure should meet. */
export interface Target {
  readonly op: '>=' | '<=';
  readonly value: number;
}

/** One measured number of one scenario on one dialect. */
export interface Figure {
  /** Stable key, also the key of {@link TARGETS} and {@link MEDPLUM}. */
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  /** Digits after the decimal point when printed. */
  readonly digits?: number;
}

/** The figures the issue asks for, per dialect. */
export const TARGETS: Readonly<Record<string, Partial<Record<BenchDialect, Target>>>> = {
  'bundle.resourcesPerSecond': { sqlite: { op: '>=', value: 10_000 }, postgres: { op: '>=', value: 3_000 } },
  'read.perSecond': { sqlite: { op: '>=', value: 10_000 }, postgres: { op: '>=', value: 10_000 } },
  // Issue 3: authorisation and audit together cost ≤ 15 % of the read throughput.
  'read.accessCost': { sqlite: { op: '<=', value: 15 }, postgres: { op: '<=', value: 15 } },
  'read-clinician.accessCost': { sqlite: { op: '<=', value: 15 }, postgres: { op: '<=', value: 15 } },
  'search.perSecond': { sqlite: { op: '>=', value: 2_000 }, postgres: { op: '>=', value: 2_000 } },
  'search.p95': { sqlite: { op: '<=', value: 20 }, postgres: { op: '<=', value: 20 } },
  'disk.bytesPerObservation': { sqlite: { op: '<=', value: 2_500 }, postgres: { op: '<=', value: 2_500 } },
  'conditionalPut.non2xx': { sqlite: { op: '<=', value: 0 }, postgres: { op: '<=', value: 0 } },
  'conditionalPut.duplicates': { sqlite: { op: '<=', value: 0 }, postgres: { op: '<=', value: 0 } },
  'hl7.parsePerSecond': { sqlite: { op: '>=', value: 100_000 }, postgres: { op: '>=', value: 100_000 } },
  'hl7.endToEndPerSecond': { sqlite: { op: '>=', value: 2_000 }, postgres: { op: '>=', value: 1_000 } },
  'astm.ackedPerSecond': { sqlite: { op: '>=', value: 1_000 }, postgres: { op: '>=', value: 1_000 } },
  'hl7.deadLetters': { sqlite: { op: '<=', value: 0 }, postgres: { op: '<=', value: 0 } },
  'orderSign.perSecond': { sqlite: { op: '>=', value: 2_000 }, postgres: { op: '>=', value: 2_000 } },
  'orderSign.p99': { sqlite: { op: '<=', value: 10 }, postgres: { op: '<=', value: 10 } },
  'orderSign.pacedP99': { sqlite: { op: '<=', value: 10 }, postgres: { op: '<=', value: 10 } },
  // Issue 10: first screen interactive in ≤ 1.5 s on the demo data.
  'web.firstScreen.p50': { sqlite: { op: '<=', value: 1_500 }, postgres: { op: '<=', value: 1_500 } },
  'web.overview.p50': { sqlite: { op: '<=', value: 1_500 }, postgres: { op: '<=', value: 1_500 } },
  'results.pipelineMsPerObservation': { sqlite: { op: '<=', value: 1 }, postgres: { op: '<=', value: 1 } },
  'operations.dashboard.p95': { sqlite: { op: '<=', value: 100 }, postgres: { op: '<=', value: 100 } },
  'operations.managerDashboard.p95': { sqlite: { op: '<=', value: 100 }, postgres: { op: '<=', value: 100 } },
  'operations.lagP95Bucket': { sqlite: { op: '<=', value: 1 }, postgres: { op: '<=', value: 1 } },
};

/**
 * Medplum server on a 2-vCPU VM with PostgreSQL 15 and Redis on the same machine, measured as
 * lower bounds (the machine was shared). Static numbers cited from
 * /work/shared/research/fhir-platform-notes.md §3; not measured by this bench.
 */
export const MEDPLUM: Readonly<Record<string, string>> = {
  'bundle.resourcesPerSecond': '323–330',
  'bundle.perSecond': '29–30',
  'bundle.p50': '262',
  'bundle.p95': '325–419',
  'read.perSecond': '1,127–1,285 ¹',
  'read.p50': '5.7–5.9 ¹',
  'read.p95': '10–16 ¹',
  'search.perSecond': '410–443 ²',
  'search.p50': '16–17 ²',
  'search.p95': '31–32 ²',
  'search.peakRssMb': '300–690 ³',
  'disk.bytesPerObservation': '~6,700',
  'conditionalPut.perSecond': '69–73 ok',
  'conditionalPut.non2xx': '19–20 % (409)',
  'conditionalPut.p50': '72–75',
  'conditionalPut.p95': '162–181',
  'startup.seconds': '48 ⁴',
};

export const MEDPLUM_NOTES = [
  'Medplum column: static figures cited from the research note (fhir-platform-notes.md §3), not measured here:',
  '2-vCPU VM, PostgreSQL 15 + Redis on the same machine, shared with another CPU-bound process (lower bounds).',
  '¹ 8 concurrent, Redis read cache.  ² _count=20 on 15k Observations.  ³ server RSS range.  ⁴ first boot.',
];

/** Whether `value` meets `target`. */
export function meets(value: number, target: Target): boolean {
  return target.op === '>=' ? value >= target.value : value <= target.value;
}

const fmt = (v: number, digits: number) =>
  Number.isFinite(v) ? v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '—';

function targetText(key: string): string {
  const t = TARGETS[key];
  if (!t) return '';
  const s = t.sqlite && `${t.sqlite.op === '>=' ? '≥' : '≤'} ${fmt(t.sqlite.value, 0)}`;
  const p = t.postgres && `${t.postgres.op === '>=' ? '≥' : '≤'} ${fmt(t.postgres.value, 0)}`;
  return s === p ? (s ?? '') : `${s ?? '—'} / ${p ?? '—'}`;
}

/** The side-by-side table: one row per figure, one column per dialect (✓/✗ against the target). */
export function renderTable(results: Partial<Record<BenchDialect, Figure[]>>, opts: { medplum: boolean }): string {
  const dialects = (['sqlite', 'postgres'] as const).filter((d) => results[d]);
  const rows = new Map<string, { label: string; unit: string; cells: Partial<Record<BenchDialect, string>> }>();
  for (const d of dialects) {
    for (const f of results[d]!) {
      const row = rows.get(f.key) ?? { label: f.label, unit: f.unit, cells: {} };
      const t = TARGETS[f.key]?.[d];
      row.cells[d] = fmt(f.value, f.digits ?? 0) + (t ? (meets(f.value, t) ? ' ✓' : ' ✗') : '');
      rows.set(f.key, row);
    }
  }
  const header = ['figure', 'unit', ...dialects, 'target (SQLite / PG)', ...(opts.medplum ? ['Medplum (cited)'] : [])];
  const body = [...rows.entries()].map(([key, r]) => [
    r.label,
    r.unit,
    ...dialects.map((d) => r.cells[d] ?? ''),
    targetText(key),
    ...(opts.medplum ? [MEDPLUM[key] ?? ''] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)];
  if (opts.medplum) out.push('', ...MEDPLUM_NOTES);
  return out.join('\n');
}
