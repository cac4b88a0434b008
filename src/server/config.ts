import { D_ECPR_REGION_ARCS, type DanishRegion } from '../core/identity/index.ts';
import type { PgMaintenanceMode } from '../store/dialect/pg-maintenance.ts';

const PG_MAINTENANCE_MODES: readonly PgMaintenanceMode[] = ['auto', 'on', 'off'];

/** Runtime configuration (the contract in the README's configuration table). */
export interface DxhubConfig {
  /** `sqlite:<file>`, `sqlite::memory:` or `postgres://…`. */
  db: string;
  port: number;
  /** MLLP (HL7 v2) listener port; 0 picks a free one (DXHUB_MLLP_PORT, default 2575). */
  mllpPort: number;
  /** ASTM E1381/E1394 (LIS01/LIS02) listener port; 0 picks a free one (DXHUB_ASTM_PORT, default 2576). */
  astmPort: number;
  /**
   * PEM certificate file for MLLP over TLS (DXHUB_MLLP_TLS_CERT); set with `mllpTlsKey`, the MLLP
   * port speaks TLS only. Deliberately no fallback to DXHUB_TLS_CERT: turning on HTTPS must not
   * silently break plain-MLLP senders, and the HTTPS certificate is often not what lab senders trust.
   */
  mllpTlsCert: string | undefined;
  /** PEM private key file of `mllpTlsCert` (DXHUB_MLLP_TLS_KEY). */
  mllpTlsKey: string | undefined;
  /** PEM CA file (DXHUB_MLLP_TLS_CA): mutual TLS, only senders with a client certificate from this CA connect. */
  mllpTlsCa: string | undefined;
  host: string;
  /** Largest accepted request body in bytes (16 MB default; larger → 413). */
  bodyLimit: number;
  /** Public base URL of the FHIR API; derived from the request's Host when unset. */
  baseUrl: string | undefined;
  /** Log level for pino (`silent` in tests). */
  logLevel: string;
  /** PEM certificate file; set with `tlsKey`, the server speaks HTTPS only (DXHUB_TLS_CERT). */
  tlsCert: string | undefined;
  /** PEM private key file of `tlsCert` (DXHUB_TLS_KEY). */
  tlsKey: string | undefined;
  /** Exact browser origins allowed to call the API cross-origin (DXHUB_CORS_ORIGINS); empty: no CORS. */
  corsOrigins: string[];
  /** Sustained requests per minute per principal, or per client IP before login; 0 turns the limit off. */
  rateLimitPerMinute: number;
  /** Requests a principal may send at once above the sustained rate: the token bucket's size. */
  rateLimitBurst: number;
  /**
   * External OpenID Connect issuer whose tokens are accepted (DXHUB_OIDC_ISSUER); unset: the
   * embedded issuer with keys under `keyDir` (`dxhub token` prints tokens for it).
   */
  oidcIssuer: string | undefined;
  /** Expected token audience (DXHUB_OIDC_AUDIENCE); default the FHIR base URL. */
  oidcAudience: string | undefined;
  /** Clock skew tolerated for `exp`/`nbf`/`iat`, seconds (DXHUB_OIDC_CLOCK_SKEW, default 60). */
  oidcClockSkew: number;
  /** Directory of the embedded issuer's signing keys and the pseudonym key (DXHUB_KEY_DIR, default ./data/keys). */
  keyDir: string;
  /** Where final reports go as HL7 v2 ORU^R01 over MLLP (DXHUB_ORU_RECEIVER=`host:port[/APP/FACILITY]`). */
  oruReceiver: { host: string; port: number; application?: string; facility?: string } | undefined;
  /** Embedded demo mode (`serve --demo`): demo sign-in per role and demo organisations. */
  demo: boolean;
  /**
   * The region's management-information configuration (DXHUB_OPERATIONS_CONFIG: a JSON file with
   * any of `OperationsConfig`'s fields — TAT targets, section capacity, each with its source).
   */
  operationsConfig: string | undefined;
  /** The region dxhub serves: its D-eCPR identifier system and issuing (DXHUB_REGION). */
  region: DanishRegion;
  /**
   * PostgreSQL only (DXHUB_PG_MAINTENANCE): `auto` (default) analyses and vacuums dxhub's tables
   * while the server's autovacuum is off, `on` always, `off` never (`store/dialect/pg-maintenance.ts`).
   */
  pgMaintenance: PgMaintenanceMode;
  /**
   * PostgreSQL only (DXHUB_AUDIT_JOURNAL): the directory under which read audits are journalled
   * (fsync'd before the answer, one subdirectory per database; `src/audit/audit-journal.ts`),
   * default `./data/audit-journal`; `off` commits them to `audit_staging` in the database instead.
   */
  auditJournal: string;
  /**
   * PostgreSQL journal only (DXHUB_AUDIT_FLUSH_DELAY_MS, default 0, at most 100): under load, the
   * least time between the starts of two journal flushes. Fewer flushes cost less CPU (~60 µs each
   * on the 2-vCPU machine); each read may wait up to this much longer for its answer.
   */
  auditFlushDelayMs: number;
  /** Crash-test fault injection: pause before each commit (never set in production). */
  testPauseBeforeCommitMs: number;
}

function parseMaintenance(mode: string): PgMaintenanceMode {
  if (!(PG_MAINTENANCE_MODES as readonly string[]).includes(mode)) {
    throw new Error(`DXHUB_PG_MAINTENANCE must be one of ${PG_MAINTENANCE_MODES.join(', ')}, not '${mode}'`);
  }
  return mode as PgMaintenanceMode;
}

function parseAuditJournal(value: string): string {
  if (value.trim() === '') throw new Error("DXHUB_AUDIT_JOURNAL must be a directory or 'off', not empty");
  return value;
}

function flushDelay(value: unknown): number {
  const n = nonNegativeInt('DXHUB_AUDIT_FLUSH_DELAY_MS', value);
  if (n > 100) throw new Error(`DXHUB_AUDIT_FLUSH_DELAY_MS must be at most 100 (milliseconds), not ${n}`);
  return n;
}

function parseRegion(name: string): DanishRegion {
  if (!(name in D_ECPR_REGION_ARCS)) {
    throw new Error(`unknown region '${name}': use one of ${Object.keys(D_ECPR_REGION_ARCS).join(', ')}`);
  }
  return name as DanishRegion;
}

/** Comma-separated exact origins (`https://host[:port]`, no path): a browser compares them byte for byte. */
function parseOrigins(list: string): string[] {
  const origins = list
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      throw new Error(`invalid CORS origin '${origin}' in DXHUB_CORS_ORIGINS: use scheme://host[:port], no path`);
    }
  }
  return origins;
}

function nonNegativeInt(name: string, value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${name} '${String(value)}': a whole number ≥ 0`);
  return n;
}

/** `host:port[/APPLICATION/FACILITY]`. */
function parseReceiver(text: string | undefined): DxhubConfig['oruReceiver'] {
  if (!text) return undefined;
  const m = /^([^:/]+|\[[^\]]+\]):(\d{1,5})(?:\/([^/]*)\/([^/]*))?$/.exec(text);
  if (!m || Number(m[2]) > 65535) {
    throw new Error(`invalid DXHUB_ORU_RECEIVER '${text}': use host:port or host:port/APPLICATION/FACILITY`);
  }
  return { host: m[1]!, port: Number(m[2]), application: m[3] || undefined, facility: m[4] || undefined };
}

/** Defaults, overridden by environment variables, overridden by CLI flags. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<DxhubConfig> = {}): DxhubConfig {
  const port = Number(overrides.port ?? env.DXHUB_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid port '${overrides.port ?? env.DXHUB_PORT}'`);
  const mllpPort = Number(overrides.mllpPort ?? env.DXHUB_MLLP_PORT ?? 2575);
  if (!Number.isInteger(mllpPort) || mllpPort < 0 || mllpPort > 65535) {
    throw new Error(`invalid MLLP port '${overrides.mllpPort ?? env.DXHUB_MLLP_PORT}'`);
  }
  const astmPort = Number(overrides.astmPort ?? env.DXHUB_ASTM_PORT ?? 2576);
  if (!Number.isInteger(astmPort) || astmPort < 0 || astmPort > 65535) {
    throw new Error(`invalid ASTM port '${overrides.astmPort ?? env.DXHUB_ASTM_PORT}'`);
  }
  return {
    mllpPort,
    astmPort,
    mllpTlsCert: overrides.mllpTlsCert ?? (env.DXHUB_MLLP_TLS_CERT || undefined),
    mllpTlsKey: overrides.mllpTlsKey ?? (env.DXHUB_MLLP_TLS_KEY || undefined),
    mllpTlsCa: overrides.mllpTlsCa ?? (env.DXHUB_MLLP_TLS_CA || undefined),
    db: overrides.db ?? env.DXHUB_DB ?? 'sqlite:./data/dxhub.db',
    port,
    host: overrides.host ?? env.DXHUB_HOST ?? '127.0.0.1',
    bodyLimit: Number(overrides.bodyLimit ?? env.DXHUB_BODY_LIMIT ?? 16 * 1024 * 1024),
    baseUrl: overrides.baseUrl ?? env.DXHUB_BASE_URL,
    logLevel: overrides.logLevel ?? env.DXHUB_LOG_LEVEL ?? 'info',
    tlsCert: overrides.tlsCert ?? (env.DXHUB_TLS_CERT || undefined),
    tlsKey: overrides.tlsKey ?? (env.DXHUB_TLS_KEY || undefined),
    corsOrigins: overrides.corsOrigins ?? parseOrigins(env.DXHUB_CORS_ORIGINS ?? ''),
    rateLimitPerMinute: nonNegativeInt(
      'DXHUB_RATE_LIMIT_PER_MINUTE',
      overrides.rateLimitPerMinute ?? env.DXHUB_RATE_LIMIT_PER_MINUTE ?? 6000,
    ),
    rateLimitBurst: nonNegativeInt(
      'DXHUB_RATE_LIMIT_BURST',
      overrides.rateLimitBurst ?? env.DXHUB_RATE_LIMIT_BURST ?? 600,
    ),
    oidcIssuer: overrides.oidcIssuer ?? (env.DXHUB_OIDC_ISSUER || undefined),
    oidcAudience: overrides.oidcAudience ?? (env.DXHUB_OIDC_AUDIENCE || undefined),
    oidcClockSkew: nonNegativeInt('DXHUB_OIDC_CLOCK_SKEW', overrides.oidcClockSkew ?? env.DXHUB_OIDC_CLOCK_SKEW ?? 60),
    keyDir: overrides.keyDir ?? env.DXHUB_KEY_DIR ?? './data/keys',
    demo: overrides.demo ?? false,
    operationsConfig: overrides.operationsConfig ?? (env.DXHUB_OPERATIONS_CONFIG || undefined),
    oruReceiver: overrides.oruReceiver ?? parseReceiver(env.DXHUB_ORU_RECEIVER),
    region: parseRegion(overrides.region ?? env.DXHUB_REGION ?? 'syddanmark'),
    pgMaintenance: parseMaintenance(overrides.pgMaintenance ?? env.DXHUB_PG_MAINTENANCE ?? 'auto'),
    auditJournal: parseAuditJournal(overrides.auditJournal ?? env.DXHUB_AUDIT_JOURNAL ?? './data/audit-journal'),
    auditFlushDelayMs: flushDelay(overrides.auditFlushDelayMs ?? env.DXHUB_AUDIT_FLUSH_DELAY_MS ?? 0),
    testPauseBeforeCommitMs: Number(overrides.testPauseBeforeCommitMs ?? env.DXHUB_TEST_PAUSE_BEFORE_COMMIT_MS ?? 0),
  };
}
