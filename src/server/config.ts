/** Runtime configuration (the contract in the README's configuration table). */
export interface DxhubConfig {
  /** `sqlite:<file>`, `sqlite::memory:` or `postgres://…`. */
  db: string;
  port: number;
  host: string;
  /** Largest accepted request body in bytes (16 MB default; larger → 413). */
  bodyLimit: number;
  /** Public base URL of the FHIR API; derived from the request's Host when unset. */
  baseUrl: string | undefined;
  /** Log level for pino (`silent` in tests). */
  logLevel: string;
  /** Crash-test fault injection: pause before each commit (never set in production). */
  testPauseBeforeCommitMs: number;
}

/** Defaults, overridden by environment variables, overridden by CLI flags. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<DxhubConfig> = {}): DxhubConfig {
  const port = Number(overrides.port ?? env.DXHUB_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid port '${overrides.port ?? env.DXHUB_PORT}'`);
  return {
    db: overrides.db ?? env.DXHUB_DB ?? 'sqlite:./data/dxhub.db',
    port,
    host: overrides.host ?? env.DXHUB_HOST ?? '127.0.0.1',
    bodyLimit: Number(overrides.bodyLimit ?? env.DXHUB_BODY_LIMIT ?? 16 * 1024 * 1024),
    baseUrl: overrides.baseUrl ?? env.DXHUB_BASE_URL,
    logLevel: overrides.logLevel ?? env.DXHUB_LOG_LEVEL ?? 'info',
    testPauseBeforeCommitMs: Number(overrides.testPauseBeforeCommitMs ?? env.DXHUB_TEST_PAUSE_BEFORE_COMMIT_MS ?? 0),
  };
}
