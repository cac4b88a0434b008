import { D_ECPR_REGION_ARCS, type DanishRegion } from '../core/identity/index.ts';

/** Runtime configuration (the contract in the README's configuration table). */
export interface DxhubConfig {
  /** `sqlite:<file>`, `sqlite::memory:` or `postgres://…`. */
  db: string;
  port: number;
  /** MLLP (HL7 v2) listener port; 0 picks a free one (DXHUB_MLLP_PORT, default 2575). */
  mllpPort: number;
  host: string;
  /** Largest accepted request body in bytes (16 MB default; larger → 413). */
  bodyLimit: number;
  /** Public base URL of the FHIR API; derived from the request's Host when unset. */
  baseUrl: string | undefined;
  /** Log level for pino (`silent` in tests). */
  logLevel: string;
  /** The region dxhub serves: its D-eCPR identifier system and issuing (DXHUB_REGION). */
  region: DanishRegion;
  /** Crash-test fault injection: pause before each commit (never set in production). */
  testPauseBeforeCommitMs: number;
}

function parseRegion(name: string): DanishRegion {
  if (!(name in D_ECPR_REGION_ARCS)) {
    throw new Error(`unknown region '${name}': use one of ${Object.keys(D_ECPR_REGION_ARCS).join(', ')}`);
  }
  return name as DanishRegion;
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
  return {
    mllpPort,
    db: overrides.db ?? env.DXHUB_DB ?? 'sqlite:./data/dxhub.db',
    port,
    host: overrides.host ?? env.DXHUB_HOST ?? '127.0.0.1',
    bodyLimit: Number(overrides.bodyLimit ?? env.DXHUB_BODY_LIMIT ?? 16 * 1024 * 1024),
    baseUrl: overrides.baseUrl ?? env.DXHUB_BASE_URL,
    logLevel: overrides.logLevel ?? env.DXHUB_LOG_LEVEL ?? 'info',
    region: parseRegion(overrides.region ?? env.DXHUB_REGION ?? 'syddanmark'),
    testPauseBeforeCommitMs: Number(overrides.testPauseBeforeCommitMs ?? env.DXHUB_TEST_PAUSE_BEFORE_COMMIT_MS ?? 0),
  };
}
