import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoleKind } from '../../src/core/security/roles.ts';
import { buildApp, type DxhubApp } from '../../src/server/app.ts';
import { type DxhubConfig, loadConfig } from '../../src/server/config.ts';
import type { FhirRepository } from '../../src/store/repository.ts';

/** What a test token is issued for (defaults: an integration system account with every scope). */
export interface TestUser {
  readonly user?: string;
  readonly role?: RoleKind;
  readonly org?: string;
  readonly scope?: string;
  readonly patient?: string;
  readonly fhirUser?: string;
  readonly ttlSeconds?: number;
}

/** A built app with its own key directory, no rate limit, and a way to mint tokens for it. */
export interface TestApp extends DxhubApp {
  /** `Bearer …` for the user (default: an integration system account). */
  bearer(user?: TestUser): Promise<string>;
  /** The key directory; removed on close. */
  readonly keyDir: string;
  /** `app.inject` without the default token. */
  readonly rawInject: DxhubApp['app']['inject'];
}

/** Builds the real app (embedded issuer, authentication on) for in-process tests. */
export async function buildTestApp(
  overrides: Partial<DxhubConfig> = {},
  opts: { repo?: FhirRepository } = {},
): Promise<TestApp> {
  const keyDir = mkdtempSync(join(tmpdir(), 'dxhub-keys-'));
  // PostgreSQL's read-audit journal goes with the keys (removed with them); close() moves it first.
  const config = loadConfig(
    {},
    { logLevel: 'silent', rateLimitPerMinute: 0, keyDir, auditJournal: join(keyDir, 'audit-journal'), ...overrides },
  );
  const dx = await buildApp(config, opts);
  const tokens = new Map<string, string>();
  const bearer = async (u: TestUser = {}) => {
    const key = JSON.stringify(u);
    const cached = tokens.get(key);
    if (cached) return cached;
    const role = u.role ?? 'integration';
    const issued = await dx.auth.issuer!.issueToken({
      user: u.user ?? `test-${role}`,
      role,
      org: u.org ?? (role === 'citizen' ? undefined : 'test-org'),
      scope: u.scope,
      patient: u.patient,
      fhirUser: u.fhirUser,
      ttlSeconds: u.ttlSeconds,
    });
    if (!issued.ok) throw new Error(`test token refused: ${issued.message}`);
    const value = `Bearer ${issued.accessToken}`;
    tokens.set(key, value);
    return value;
  };
  // Requests without an Authorization header go as the default integration account; a test of
  // authentication passes its own header (`authorization: ''` for none).
  const defaultBearer = await bearer();
  const inject = dx.app.inject.bind(dx.app);
  dx.app.inject = ((o: { headers?: Record<string, unknown> }) => {
    const headers = { ...(o.headers ?? {}) };
    if (!('authorization' in headers)) headers.authorization = defaultBearer;
    return inject({ ...o, headers } as never);
  }) as never;
  return {
    ...dx,
    bearer,
    rawInject: inject,
    keyDir,
    async close() {
      await dx.close();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
