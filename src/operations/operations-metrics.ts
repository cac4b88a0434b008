import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OperationsService } from './operations-service.ts';

/**
 * Management information as Prometheus metrics on the app's registry: event → indicator lag,
 * events applied, queues (L, mean wait) per stage and section at the last tick, and active
 * bottleneck alerts per stage and section.
 */
export function registerOperationsMetrics(registry: Registry, ops: OperationsService): void {
  const registers = [registry];
  const lag = new Histogram({
    name: 'dxhub_ops_event_lag_seconds',
    help: 'Time from a change committing to the indicators including it',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const applied = new Counter({
    name: 'dxhub_ops_events_total',
    help: 'Outbox events applied to the indicators',
    registers,
  });
  ops.on('applied', (events: { at: number }[], now: number) => {
    applied.inc(events.length);
    for (const e of events) lag.observe(Math.max(0, (now - e.at) / 1000));
  });
  new Gauge({
    name: 'dxhub_ops_queue_length',
    help: 'Orders waiting per stage and section at the last detector tick',
    labelNames: ['stage', 'section'] as const,
    registers,
    collect() {
      this.reset();
      for (const q of ops.monitor.readings) this.set({ stage: q.stage, section: q.section }, q.queue);
    },
  });
  new Gauge({
    name: 'dxhub_ops_queue_wait_seconds',
    help: 'Mean wait of the orders waiting per stage and section at the last detector tick',
    labelNames: ['stage', 'section'] as const,
    registers,
    collect() {
      this.reset();
      for (const q of ops.monitor.readings) this.set({ stage: q.stage, section: q.section }, q.meanAgeSeconds);
    },
  });
  new Gauge({
    name: 'dxhub_ops_alerts_active',
    help: 'Active bottleneck alerts per stage and section',
    labelNames: ['stage', 'section'] as const,
    registers,
    async collect() {
      this.reset();
      for (const a of await ops.monitor.alerts({ active: true })) this.inc({ stage: a.stage, section: a.section });
    },
  });
}
