import { GROUP_BY, WINDOWS } from './indicator-queries.ts';

const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const common = [
  query(
    'org',
    'SOR code of a region, hospital, department or section: the answer covers it and everything below (drill-down). Default: the caller’s organisation for department managers, everything otherwise.',
  ),
  query('window', 'Time window', { type: 'string', enum: WINDOWS, default: 'today' }),
  query('format', '`csv` for a CSV export (or send Accept: text/csv)', { type: 'string', enum: ['json', 'csv'] }),
];
const ok = (description: string) => ({
  200: { description, content: { 'application/json': {}, 'text/csv': {} } },
  400: { description: 'Bad parameter (FHIR OperationOutcome)' },
  403: { description: 'Role not allowed, or organisation outside the caller’s (OperationOutcome)' },
});

/** The OpenAPI 3.1 document of the management-information API (`GET /mi/openapi.json`). */
export const OPERATIONS_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'dxhub management information',
    version: '1',
    description:
      'Turnaround times, work in progress, throughput, capacity, quality, bottleneck alerts and interface health, computed incrementally from the FHIR record. Every call needs a bearer token; roles: admin, integration, department-manager (aggregates only, bounded by the organisation in the token), lab-technologist, lab-physician, radiographer, radiologist (bounded by their organisation).',
  },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  security: [{ bearer: [] }],
  paths: {
    '/mi/tat': {
      get: {
        summary: 'Turnaround time per interval: n, median, P90, mean (minutes) and % within target',
        parameters: [
          ...common,
          query('by', 'Breakdown', { type: 'string', enum: GROUP_BY, default: 'all' }),
          query('interval', 'Comma-separated interval names (default all)'),
        ],
        responses: ok(
          'Rows: measure, group, n, perHour, medianMinutes, p90Minutes, meanMinutes, targeted, withinTargetPercent',
        ),
      },
    },
    '/mi/throughput': {
      get: {
        summary: 'Orders, results and completed orders per hour; utilisation against configured capacity',
        parameters: [...common, query('by', 'Breakdown', { type: 'string', enum: GROUP_BY, default: 'section' })],
        responses: ok('Rows per measure and group, and utilisation per capacity unit'),
      },
    },
    '/mi/quality': {
      get: {
        summary:
          'Pre-analytical quality (rejected, haemolysed specimens), autoverification rate, critical-value notification times',
        parameters: [...common, query('by', 'Breakdown', { type: 'string', enum: GROUP_BY, default: 'all' })],
        responses: ok('Rates with numerators and denominators'),
      },
    },
    '/mi/wip': {
      get: {
        summary:
          'Work in progress per section and stage; overdue and at-risk orders (order references for lab roles only)',
        parameters: [common[0], common[2]],
        responses: ok('byStage, overdue, atRisk'),
      },
    },
    '/mi/alerts': {
      get: {
        summary: 'Bottleneck alerts (stage, section, queue size, wait, normal wait, throughput)',
        parameters: [query('active', 'true: only alerts not cleared', { type: 'boolean' }), common[2]],
        responses: ok('Alerts, newest first'),
      },
    },
    '/mi/queues': {
      get: { summary: 'Every queue at the last detector tick (L, λ, W, baseline)', responses: ok('Queues') },
    },
    '/mi/organisations': {
      get: {
        summary: 'The organisation tree (SOR codes with parents) that indicators exist for',
        responses: ok('Nodes'),
      },
    },
    '/mi/interfaces': {
      get: {
        summary:
          'Interface and device health: messages per sender, errors, queue depths, last contact, silence longer than normal',
        parameters: [
          query(
            'org',
            'SOR code: only the analyzers whose Device owner, and the HL7 senders whose MSH-4, is at or below it',
          ),
        ],
        responses: ok('HL7 senders, ASTM analyzers, ingest snapshot'),
      },
    },
    '/mi/requisitions': {
      get: {
        summary:
          'Requisition patterns from the ordering service’s order events: proposals, signed, cancelled, warnings, blocks, overrides, repeats inside the retest interval, block and override rates, weekly trend, funnel-plot limits (95 %/99.8 %) of the block rate; aggregates only',
        parameters: [
          ...common,
          query('by', 'Breakdown: the ordering organisation (default), the orderer or the test', {
            type: 'string',
            enum: ['organisation', 'orderer', 'test'],
            default: 'organisation',
          }),
        ],
        responses: ok('Patterns (CSV: one row per key)'),
      },
    },
    '/mi/stream': {
      get: {
        summary:
          'Server-sent events: `indicators` (throttled to 1/s after each applied batch, with the event lag) and `alert`',
        responses: { 200: { description: 'text/event-stream' } },
      },
    },
  },
} as const;
