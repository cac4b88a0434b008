/**
 * Pure views of management information for the dashboard (docs/web.md): the `/mi/throughput` and
 * `/mi/interfaces` answers (src/server/operations-routes.ts) shaped for the charts and tables.
 */

export interface Indicator {
  measure: string;
  group: string;
  n: number;
  perHour: number;
  medianMinutes?: number | null;
  p90Minutes?: number | null;
  withinTargetPercent: number | null;
}
export interface Throughput {
  rows: Indicator[];
  utilisation: { unit: string; resultsPerHour: number; capacityPerHour: number; utilisation: number }[];
}
export interface Contact {
  lastContact: string | null;
  messagesInWindow: number;
  silentMinutes: number | null;
  silent: boolean;
}
export interface InterfaceStatus {
  windowHours: number;
  hl7Senders: (Contact & { sender: string })[];
  analyzers: (Contact & { analyzer: string; queueDepth: number; failed: number })[];
  ingest: {
    senders: {
      sender: string;
      inbox: { queueDepth: number; deadLetters: number; processingFailures: number };
      listeners: Record<string, { acks: { AA: number; AE: number; AR: number } }>;
    }[];
  };
}
/** One row of the interface-health view: an HL7 sender or an ASTM analyzer. */
export interface HealthRow extends Contact {
  name: string;
  kind: 'HL7 v2' | 'ASTM';
  queueDepth: number;
  errors: number;
}

export const PERIODS = ['today', '7d'] as const;
export type Period = (typeof PERIODS)[number];
export const THROUGHPUT_MEASURES = ['orders', 'results', 'completed'] as const;

/** Hours of day (Danish time) of a throughput answer: today up to the latest hour, else all 24. */
function hoursOf(rows: Indicator[], period: Period): string[] {
  const last = rows.reduce((m, r) => Math.max(m, Number(r.group)), -1);
  const n = period === 'today' ? Math.max(last + 1, 1) : 24;
  return Array.from({ length: n }, (_, h) => String(h).padStart(2, '0'));
}

/** Count per hour of day (today) or the mean per hour of day over the period's days. */
export function throughputSeries(
  rows: Indicator[],
  period: Period,
): { hours: string[]; series: Record<string, number[]> } {
  const hours = hoursOf(rows, period);
  const days = period === '7d' ? 7 : 1;
  const series: Record<string, number[]> = {};
  for (const m of THROUGHPUT_MEASURES) {
    series[m] = hours.map((h) => {
      const n = rows.find((r) => r.measure === m && r.group === h)?.n ?? 0;
      return Math.round((n / days) * 10) / 10;
    });
  }
  return { hours, series };
}

/** HL7 senders and ASTM analyzers as one list: messages, errors, queue, silence. */
export function healthRows(h: InterfaceStatus): HealthRow[] {
  const hl7 = h.hl7Senders.map((s): HealthRow => {
    const ingest = h.ingest.senders.find((x) => x.sender === s.sender);
    const nacks = Object.values(ingest?.listeners ?? {}).reduce((a, l) => a + l.acks.AE + l.acks.AR, 0);
    return {
      ...s,
      name: s.sender,
      kind: 'HL7 v2',
      queueDepth: ingest?.inbox.queueDepth ?? 0,
      errors: (ingest?.inbox.deadLetters ?? 0) + nacks,
    };
  });
  const astm = h.analyzers.map((a): HealthRow => ({ ...a, name: a.analyzer, kind: 'ASTM', errors: a.failed }));
  return [...hl7, ...astm];
}
