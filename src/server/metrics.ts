import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

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
}
