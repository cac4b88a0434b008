import { readFileSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AuditJournal, AuditLog, auditJournalOf } from '../audit/index.ts';
import { DEMO_CAPACITY } from '../core/demo/region-catalogue.ts';
import { Errors, FhirError, toOperationOutcome } from '../core/fhir/errors.ts';
import { DeliveryWorker } from '../delivery/delivery-worker.ts';
import { FhirService } from '../fhir-api/fhir-service.ts';
import { uniquePatientIdentifiers } from '../identity/unique-identifiers.ts';
import { AstmInbox } from '../ingest/astm-inbox.ts';
import { AstmProcessor } from '../ingest/astm-processor.ts';
import { Hl7Inbox } from '../ingest/hl7-inbox.ts';
import { Hl7Processor } from '../ingest/hl7-processor.ts';
import { InterfaceHealth } from '../ingest/interface-health.ts';
import { type OperationsConfig, operationsConfigFrom } from '../operations/operations-config.ts';
import { registerOperationsMetrics } from '../operations/operations-metrics.ts';
import { OperationsService } from '../operations/operations-service.ts';
import { type OrderingService, openOrdering } from '../ordering/index.ts';
import { ResultPipeline } from '../results/result-pipeline.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';
import { Access, type Authentication, openAuthentication, requireAuthentication } from './auth.ts';
import { cdsHooksRoutes } from './cds-hooks-routes.ts';
import type { DxhubConfig } from './config.ts';
import { deliveryRoutes } from './delivery-routes.ts';
import { seedDemo } from './demo-seed.ts';
import { fhirRoutes } from './fhir-routes.ts';
import { createRateLimiter, rateLimitHook, registerHardening, serverOptions } from './hardening.ts';
import { identityRoutes } from './identity-routes.ts';
import { ingestRoutes } from './ingest-routes.ts';
import { Metrics } from './metrics.ts';
import { operationsRoutes } from './operations-routes.ts';
import { orderingRoutes } from './ordering-routes.ts';
import { resultsRoutes } from './results-routes.ts';
import { securityRoutes } from './security-routes.ts';
import { webRoutes } from './web-routes.ts';

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];

/** A built, not yet listening dxhub server with its repository. */
export interface DxhubApp {
  app: FastifyInstance;
  repo: FhirRepository;
  metrics: Metrics;
  audit: AuditLog;
  /** Every registered route (method, URL pattern, public or not): what the route-walking test checks. */
  routes: { method: string; url: string; public: boolean }[];
  /** The FHIR interactions as the system (internal callers: listeners, workers). */
  service: FhirService;
  /** The HL7 v2 inbox and its processor (not started: `dxhub serve` starts it). */
  inbox: Hl7Inbox;
  processor: Hl7Processor;
  /** Interface health: MLLP listeners report to it (`observer`); `/ops/interfaces` and `/metrics` show it. */
  interfaces: InterfaceHealth;
  /** The ASTM inbox and its processor (not started: `dxhub serve` starts it). */
  astmInbox: AstmInbox;
  astmProcessor: AstmProcessor;
  /** Outgoing deliveries (not started: `dxhub serve` starts it). */
  delivery: DeliveryWorker;
  /** Order entry, rules and CDS Hooks (docs/ordering.md). */
  ordering: OrderingService;
  /** Result processing (autoverification, critical values …): not started, `dxhub serve` starts it. */
  results: ResultPipeline;
  /** Management information (outbox consumer 'operations'; not started: `dxhub serve` starts it). */
  operations: OperationsService;
  /** Token verification and, in embedded mode, the local issuer (`auth.issuer.issueToken`). */
  auth: Authentication;
  close(): Promise<void>;
}

/**
 * Builds the server: opens and migrates the database, registers the FHIR API and operational
 * endpoints. Separate from `listen()` so that tests use `app.inject()`.
 */
export interface BuildOptions {
  /** A repository opened already (tests); otherwise `config.db` is opened. */
  readonly repo?: FhirRepository;
  /**
   * `'benchmark'`: no authentication, and the FHIR API acts as the system, without access decisions
   * or audit entries: what `bench/scenarios/read.ts` measures authorisation and audit against
   * (issue 3's figure). Not reachable from the command line, the environment or a configuration
   * file; only `bench/paired-server.ts` passes it. The routes outside `/fhir` still need a principal,
   * so they refuse every request.
   */
  readonly withoutAccessControl?: 'benchmark';
}

export async function buildApp(config: DxhubConfig, opts: BuildOptions = {}): Promise<DxhubApp> {
  const repo =
    opts.repo ??
    (await FhirRepository.open(await openDialect(config.db), undefined, {
      uniqueIdentifiers: uniquePatientIdentifiers(config.region),
    }));
  const metrics = new Metrics();
  repo.pauseBeforeCommitMs = config.testPauseBeforeCommitMs;
  repo.observe = (op, seconds) => metrics.store.observe({ operation: op, dialect: repo.db.caps.name }, seconds);
  // Every error, including the router's own (bad URL encoding, over-long path segment), is an
  // OperationOutcome (CONVENTIONS §10).
  const answerError = (error: FastifyError | FhirError, req: FastifyRequest, reply: FastifyReply) => {
    let fhir: FhirError;
    if (error instanceof FhirError) fhir = error;
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') fhir = Errors.bodyTooLarge(config.bodyLimit);
    else if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      fhir = Errors.badRequest(error.message);
    } else if (error.statusCode && error.statusCode < 500) fhir = Errors.badRequest(error.message);
    else {
      req.log.error({ err: error, reqId: req.id }, 'unhandled error');
      fhir = Errors.internal(String(req.id));
    }
    reply
      .code(fhir.status)
      .type('application/fhir+json; charset=utf-8')
      .send(JSON.stringify(toOperationOutcome(fhir)));
  };
  const auth = await openAuthentication(config);
  const app = Fastify({
    bodyLimit: config.bodyLimit,
    // On close: finish in-flight requests, drop idle keep-alive connections.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
    // Clients address the base as `[base]/` too (fhir-kit-client POSTs Bundles to `/fhir/`).
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    frameworkErrors: (error, req, reply) => answerError(error, req, reply),
    ...serverOptions(config),
  });
  const routes: DxhubApp['routes'] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      routes.push({ method, url: r.url, public: (r.config as { public?: boolean } | undefined)?.public === true });
    }
  });
  // Security headers and CORS first: a preflight carries no token and is answered before authentication.
  registerHardening(app, config);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, JSON.parse(text as string));
    } catch (e) {
      done(Errors.malformedJson((e as Error).message), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, text, done) =>
    done(null, text),
  );
  app.addContentTypeParser('*', (req, _payload, done) => {
    done(Errors.unsupportedMediaType(String(req.headers['content-type'] ?? '')), undefined);
  });

  // While shutting down, answers close their connection: a keep-alive connection that was busy
  // when close() began would otherwise hold the process open for Fastify's 72 s keep-alive timeout.
  let closing = false;
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // dxhub speaks FHIR JSON only: a client that accepts only XML (or asks for it with _format) gets
  // 406 rather than a body it cannot read (R4 §3.1.0.1.10).
  // Callback hooks: they run on every request, and a promise per hook costs more than the check.
  app.addHook('onRequest', (req, _reply, done) => {
    if (!req.url.startsWith('/fhir')) return done();
    const accept = String(req.headers.accept ?? '');
    const format = req.url.includes('_format=') ? /[?&]_format=([^&]*)/.exec(req.url)?.[1] : undefined;
    let wanted = accept;
    try {
      if (format) wanted = decodeURIComponent(format);
    } catch {
      return done(Errors.badRequest(`Invalid _format '${format}'`));
    }
    if (wanted && !/json|\*\/\*|application\/\*/i.test(wanted)) return done(Errors.notAcceptable(wanted));
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    const interaction = req.interaction ?? req.routeOptions.url ?? 'other';
    metrics.http.observe(
      { interaction, method: req.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.setErrorHandler(answerError);
  app.setNotFoundHandler((req, reply) => {
    reply
      .code(404)
      .type('application/fhir+json; charset=utf-8')
      .send(JSON.stringify(toOperationOutcome(Errors.notSupported(`${req.method} ${req.url.split('?')[0]}`))));
  });

  // Read audits go to a journal first (see AuditLog, AuditJournal): next to the main file on
  // SQLite; on PostgreSQL in DXHUB_AUDIT_JOURNAL, flushed to the disk before each answer.
  // The benchmark's open API records nothing: no journal, no staging, so no mover thread either.
  const unaudited = opts.withoutAccessControl === 'benchmark';
  const journalDir = unaudited ? undefined : auditJournalOf(config.db, config.auditJournal);
  const audit = await AuditLog.open(repo.db, {
    staging: unaudited ? false : undefined,
    clock: repo.clock,
    journal: journalDir
      ? new AuditJournal(journalDir, {
          sync: repo.db.caps.name === 'postgres',
          minFlushIntervalMs: config.auditFlushDelayMs,
        })
      : undefined,
    // The journal (SQLite) or the staged entries (PostgreSQL) are moved into the chain by a worker
    // thread (AuditLogOptions.moveInThread).
    moveInThread: journalDir || repo.db.caps.name === 'postgres' ? config.db : undefined,
  });
  if (config.demo) await seedDemo(repo);
  const access = new Access(repo, audit, auth.pseudonymKey);
  // No route answers without a verified principal unless its config says `public: true`.
  if (!unaudited) requireAuthentication(app, auth, audit);
  if (config.rateLimitPerMinute > 0) {
    app.addHook(
      'onRequest',
      rateLimitHook(createRateLimiter({ perMinute: config.rateLimitPerMinute, burst: config.rateLimitBurst })),
    );
  }

  // Liveness and readiness answer probes without a token and without details.
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true } }, async (req, reply) => {
    try {
      await repo.db.ping();
      return { status: 'ready', database: repo.db.caps.name };
    } catch (e) {
      req.log.warn({ err: e }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
  // Operations data: an admin or a system account.
  app.get('/metrics', async (req, reply) => {
    const kind = req.principal?.role.kind;
    if (kind !== 'admin' && kind !== 'integration')
      throw Errors.forbidden('metrics are for operations (admin or integration role)');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  await app.register(securityRoutes, { auth, access, audit, demo: config.demo });
  await app.register(webRoutes, { oidcIssuer: config.oidcIssuer });
  await app.register(identityRoutes, { repo, audit, access });
  const service = new FhirService(repo);
  await app.register(fhirRoutes, {
    service,
    baseUrl: config.baseUrl,
    guardOf: unaudited ? () => undefined : (req) => access.guard(req),
  });
  // HL7 v2: the durable inbox the MLLP listener feeds, and the processor mapping it to FHIR
  // (started by `dxhub serve`; tests run it directly).
  const inbox = new Hl7Inbox(repo.db);
  const processor = new Hl7Processor({
    inbox,
    service,
    audit,
    onError: (err) => app.log.error({ err }, 'HL7 processing failed'),
  });
  const interfaces = new InterfaceHealth(repo.db);
  metrics.watchInterfaces(interfaces);
  // ASTM: the durable inbox the ASTM listener feeds, and its processor (started by `dxhub serve`).
  const astmInbox = new AstmInbox(repo.db);
  const astmProcessor = new AstmProcessor({
    inbox: astmInbox,
    service,
    onError: (err) => app.log.error({ err }, 'ASTM processing failed'),
  });
  await app.register(ingestRoutes, { inbox, processor, astmInbox, astmProcessor, interfaces });
  // Outgoing: FHIR Subscriptions (rest-hook) and HL7 v2 ORU to the configured receiver (started by serve).
  const delivery = new DeliveryWorker({
    repo,
    oruReceiver: config.oruReceiver,
    onError: (err) => app.log.error({ err }, 'delivery failed'),
  });
  await app.register(deliveryRoutes, { delivery });
  // Rational diagnostics: order entry, rules as data and CDS Hooks on one engine (docs/ordering.md).
  const ordering = await openOrdering(repo);
  await app.register(orderingRoutes, { ordering, access });
  await app.register(cdsHooksRoutes, { ordering, access, baseUrl: config.baseUrl });
  // PostgreSQL: planner statistics and dead rows of dxhub's tables while autovacuum is off. Loaded
  // only there, as the dialects are: an embedded server does not load the PostgreSQL driver.
  const maintenance =
    repo.db.caps.name === 'postgres' && config.pgMaintenance !== 'off'
      ? (await import('../store/dialect/pg-maintenance.ts')).PgMaintenance.start(config.db, {
          mode: config.pgMaintenance,
          log: (msg) => app.log.info(msg),
        })
      : undefined;
  // Result processing: every Observation passes the pipeline (an outbox consumer; started by serve).
  const results = new ResultPipeline({ repo, onError: (err) => app.log.error({ err }, 'result processing failed') });
  await app.register(resultsRoutes, { repo, pipeline: results, access });
  // Management information (docs/operations.md): indicators from the outbox, /mi/ API, metrics.
  const operations = new OperationsService({
    repo,
    config: operationsConfigOf(config),
    directory: () => access.facts.directory(),
    now: () => repo.clock.now(),
    onError: (err) => app.log.error({ err }, 'operations indicators failed'),
  });
  registerOperationsMetrics(metrics.registry, operations);
  // Requisition patterns in management information delegate to the ordering service's event log.
  await app.register(operationsRoutes, { ops: operations, interfaces, requisitions: ordering.events });

  return {
    app,
    repo,
    metrics,
    audit,
    auth,
    routes,
    service,
    inbox,
    processor,
    interfaces,
    astmInbox,
    astmProcessor,
    delivery,
    ordering,
    results,
    operations,
    async close() {
      closing = true;
      await operations.stop();
      await processor.stop();
      await astmProcessor.stop();
      await delivery.stop();
      await ordering.close();
      await results.stop();
      await app.close();
      await audit.close();
      await maintenance?.close();
      await repo.close();
    },
  };
}

/**
 * Management information's configuration: the region's file (DXHUB_OPERATIONS_CONFIG), else in
 * demo mode the demo region's invented section capacities, else the defaults (no capacity).
 */
export function operationsConfigOf(config: Pick<DxhubConfig, 'operationsConfig' | 'demo'>): OperationsConfig {
  if (config.operationsConfig) {
    return operationsConfigFrom(JSON.parse(readFileSync(config.operationsConfig, 'utf8')));
  }
  return operationsConfigFrom(config.demo ? { capacity: DEMO_CAPACITY } : undefined);
}
