import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AnalyzerHealth, InterfaceHealthSnapshot } from '../ingest/interface-health.ts';

/** Prometheus metrics of one app instance (own registry: no global state). */
export class Metrics {
  readonly registry = new Registry();
  readonly http = new Histogram({
    name: 'dxhub_http_request_duration_seconds',
    help: 'HTTP request latency by FHIR interaction, method and status',
    labelNames: ['interaction', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly store = new Histogram({
    name: 'dxhub_store_operation_duration_seconds',
    help: 'Store operation latency (search, read, transaction) by operation and dialect',
    labelNames: ['operation', 'dialect'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dxhub_' });
  }

  /**
   * Exposes interface health (HL7 v2 over MLLP) at each scrape: in-process counters per listener
   * and sender (labels `listener`, `sender` = `MSH-3^MSH-4`), and gauges from the inbox table per
   * sender (queue depth, dead letters, processing failures, last message time). Call once.
   */
  watchInterfaces(source: { snapshot(): Promise<InterfaceHealthSnapshot> }): void {
    const registers = [this.registry];
    type Snap = InterfaceHealthSnapshot;
    // Counters are recomputed from the snapshot: reset, then set to the in-process totals.
    const counter = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (s: Snap, add: (labels: Record<L, string>, n: number) => void) => void,
    ) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const s = await source.snapshot();
          this.reset();
          fill(s, (labels, n) => this.inc(labels as never, n));
        },
      });
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (s: Snap, set: (labels: Record<L, string>, n: number) => void) => void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          const s = await source.snapshot();
          this.reset();
          fill(s, (labels, n) => this.set(labels as never, n));
        },
      });

    gauge('dxhub_mllp_connections_open', 'Open MLLP connections', ['listener'], (s, set) => {
      for (const l of s.listeners) set({ listener: l.listener }, l.connectionsOpen);
    });
    counter('dxhub_mllp_connections_total', 'MLLP connections accepted', ['listener'], (s, add) => {
      for (const l of s.listeners) add({ listener: l.listener }, l.connectionsTotal);
    });
    counter(
      'dxhub_mllp_rejected_total',
      'MLLP connections refused or dropped (allowlist, tls-handshake, garbage)',
      ['listener', 'reason'],
      (s, add) => {
        for (const l of s.listeners)
          for (const [reason, n] of Object.entries(l.rejected)) add({ listener: l.listener, reason }, n);
      },
    );
    counter(
      'dxhub_mllp_framing_errors_total',
      'MLLP framing errors (unexpected-bytes, oversize, unterminated-frame)',
      ['listener', 'code'],
      (s, add) => {
        for (const l of s.listeners)
          for (const [code, n] of Object.entries(l.framingErrors)) add({ listener: l.listener, code }, n);
      },
    );
    counter(
      'dxhub_hl7_messages_total',
      'HL7 v2 messages committed to the inbox, per listener and sender (MSH-3^MSH-4)',
      ['listener', 'sender'],
      (s, add) => {
        for (const snd of s.senders)
          for (const [listener, c] of Object.entries(snd.listeners)) add({ listener, sender: snd.sender }, c.messages);
      },
    );
    counter(
      'dxhub_hl7_acks_total',
      'HL7 v2 ACKs sent, by MSA-1 code (AA, AE, AR), per listener and sender',
      ['listener', 'sender', 'code'],
      (s, add) => {
        for (const snd of s.senders)
          for (const [listener, c] of Object.entries(snd.listeners))
            for (const [code, n] of Object.entries(c.acks)) add({ listener, sender: snd.sender, code }, n);
      },
    );
    // Per HL7 sender and per ASTM analyzer (H-5 sender name): one gauge per inbox figure.
    type Figures = AnalyzerHealth['inbox'];
    const figures: [string, (what: string, per: string) => string, (i: Figures) => number | null][] = [
      ['inbox_messages', (what, per) => `${what} inbox rows per ${per} (all states)`, (i) => i.total],
      [
        'queue_depth',
        (what, per) => `${what} inbox rows received and not yet processed, per ${per}`,
        (i) => i.queueDepth,
      ],
      [
        'dead_letters',
        (what, per) => `${what} inbox rows in state failed (unparseable or failed in processing), per ${per}`,
        (i) => i.deadLetters,
      ],
      [
        'processing_failures',
        (what, per) => `${what} inbox rows the processor tried and failed (a subset of the dead letters), per ${per}`,
        (i) => i.processingFailures,
      ],
      [
        'last_message_timestamp_seconds',
        (what, per) => `Unix time of the newest ${what} inbox row per ${per}`,
        (i) => (i.lastReceivedAt === null ? null : i.lastReceivedAt / 1000),
      ],
    ];
    const inboxes: [string, string, string, (s: Snap) => [string, Figures][]][] = [
      ['dxhub_hl7', 'HL7 v2', 'sender', (s) => s.senders.map((x) => [x.sender, x.inbox])],
      ['dxhub_astm', 'ASTM', 'analyzer', (s) => s.analyzers.map((a) => [a.analyzer, a.inbox])],
    ];
    for (const [prefix, what, per, rows] of inboxes) {
      for (const [name, help, value] of figures) {
        gauge(`${prefix}_${name}`, help(what, per), [per], (s, set) => {
          for (const [key, inbox] of rows(s)) {
            const v = value(inbox);
            if (v !== null) set({ [per]: key }, v);
          }
        });
      }
    }
  }
}
