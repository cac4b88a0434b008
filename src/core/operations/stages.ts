/**
 * The stages an order passes through and the intervals between them (operations research note
 * A1, after the generic TAT timeline of BMC Med Inform Decis Mak 2011;11:34 and Hawkins,
 * Clin Biochem Rev 2007;28:179–194). Imaging uses `ordered` for "requested".
 */
export const LAB_STAGES = [
  'ordered',
  'collected',
  'received',
  'in-analysis',
  'verified',
  'reported',
  'viewed',
] as const;
export const IMAGING_STAGES = ['ordered', 'scheduled', 'performed', 'reported', 'viewed'] as const;

export type Stage = (typeof LAB_STAGES)[number] | (typeof IMAGING_STAGES)[number];
/** What a timeline follows: a lab order, an imaging order, or a critical-value notification. */
export type TimelineKind = 'lab' | 'imaging' | 'critical';

/** The stages of a kind, in order (a critical value is raised = ordered, acknowledged = reported). */
export function stagesOf(kind: TimelineKind): readonly Stage[] {
  switch (kind) {
    case 'lab':
      return LAB_STAGES;
    case 'imaging':
      return IMAGING_STAGES;
    case 'critical':
      return ['ordered', 'reported'];
  }
}

/** A named interval between two stages; `source` says where the definition comes from. */
export interface IntervalDefinition {
  readonly name: string;
  readonly kind: TimelineKind;
  readonly from: Stage;
  readonly to: Stage;
  readonly source: string;
}

const A1 = 'operations-and-ai.md A1 (BMC Med Inform Decis Mak 2011;11:34; Hawkins, Clin Biochem Rev 2007;28:179)';

/** The intervals whose turnaround is measured; each one a measure in the indicator state. */
export const INTERVALS: readonly IntervalDefinition[] = [
  { name: 'order-to-collection', kind: 'lab', from: 'ordered', to: 'collected', source: A1 },
  { name: 'collection-to-receipt', kind: 'lab', from: 'collected', to: 'received', source: A1 },
  { name: 'receipt-to-result', kind: 'lab', from: 'received', to: 'verified', source: A1 },
  {
    name: 'receipt-to-report',
    kind: 'lab',
    from: 'received',
    to: 'reported',
    source: `${A1}: intra-lab TAT (CAP QT8)`,
  },
  { name: 'collection-to-report', kind: 'lab', from: 'collected', to: 'reported', source: `${A1}: NACB troponin` },
  { name: 'order-to-report', kind: 'lab', from: 'ordered', to: 'reported', source: `${A1}: total TAT` },
  { name: 'report-to-viewed', kind: 'lab', from: 'reported', to: 'viewed', source: `${A1}: E7/E8` },
  { name: 'imaging-order-to-scheduled', kind: 'imaging', from: 'ordered', to: 'scheduled', source: A1 },
  { name: 'imaging-order-to-performed', kind: 'imaging', from: 'ordered', to: 'performed', source: A1 },
  { name: 'imaging-performed-to-report', kind: 'imaging', from: 'performed', to: 'reported', source: A1 },
  { name: 'imaging-order-to-report', kind: 'imaging', from: 'ordered', to: 'reported', source: A1 },
  {
    name: 'critical-notification',
    kind: 'critical',
    from: 'ordered',
    to: 'reported',
    source: 'critical value raised (CommunicationRequest.authoredOn) → acknowledged (Communication.received or sent)',
  },
];

/** The intervals a stage newly reached completes, given the stages already known. */
export function completedIntervals(
  kind: TimelineKind,
  stages: Readonly<Partial<Record<Stage, number>>>,
  reached: Stage,
): { interval: IntervalDefinition; seconds: number }[] {
  const out: { interval: IntervalDefinition; seconds: number }[] = [];
  for (const iv of INTERVALS) {
    if (iv.kind !== kind || (iv.from !== reached && iv.to !== reached)) continue;
    const from = stages[iv.from];
    const to = stages[iv.to];
    if (from !== undefined && to !== undefined) out.push({ interval: iv, seconds: Math.max(0, (to - from) / 1000) });
  }
  return out;
}

/** The furthest stage reached (the queue a timeline waits in), or undefined. */
export function currentStage(kind: TimelineKind, stages: Readonly<Partial<Record<Stage, number>>>): Stage | undefined {
  const order = stagesOf(kind);
  for (let i = order.length - 1; i >= 0; i--) if (stages[order[i]!] !== undefined) return order[i];
  return undefined;
}

/** The stage that closes a timeline (no longer work in progress). */
export const closingStage = (_kind: TimelineKind): Stage => 'reported';
