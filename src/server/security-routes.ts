import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuditLog, readAuditEntry, searchAuditLog } from '../audit/index.ts';
import { Errors } from '../core/fhir/errors.ts';
import { demoUsers } from '../security/demo-users.ts';
import type { Access, Authentication } from './auth.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** AuditEvent.subtype codes (BALP / DICOM, see core/audit/audit-event.ts) → the log's action. */
const SUBTYPE_ACTION: Record<string, string> = {
  read: 'read',
  vread: 'vread',
  'search-type': 'search',
  'search-system': 'search',
  create: 'create',
  update: 'update',
  patch: 'patch',
  delete: 'delete',
  '110122': 'login',
  '110123': 'logout',
  'AuthZ-Consent': 'denied',
  '110127': 'break-glass',
};
const OUTCOME: Record<string, string> = {
  '0': 'success',
  '4': 'minor-failure',
  '8': 'serious-failure',
  '12': 'major-failure',
};

function instant(prefix: string, value: string, name: string): { since?: number; until?: number } {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const t = Date.parse(day ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(t)) throw Errors.invalidSearchValue(name, value, 'expected a date or instant');
  const end = day ? t + 86_400_000 : t + 1;
  switch (prefix) {
    case 'ge':
      return { since: t };
    case 'gt':
      return { since: end };
    case 'le':
      return { until: end };
    case 'lt':
      return { until: t };
    case '':
    case 'eq':
      return { since: t, until: end };
    default:
      throw Errors.invalidSearchValue(name, `${prefix}${value}`, 'prefix must be eq, ge, gt, le or lt');
  }
}

function withId(seq: number, event: object): string {
  return JSON.stringify({ resourceType: 'AuditEvent', id: String(seq), ...event });
}

/**
 * Security endpoints: SMART and OpenID discovery, the embedded issuer's keys and demo sign-in, and
 * the audit trail as FHIR AuditEvents (`GET /fhir/AuditEvent`, read from the hash-chained log).
 */
export async function securityRoutes(
  app: FastifyInstance,
  opts: { auth: Authentication; access: Access; audit: AuditLog; demo: boolean },
) {
  const { auth, access, audit } = opts;
  const issuer = auth.issuer;
  let external: Promise<Record<string, unknown>> | undefined;

  app.get('/fhir/.well-known/smart-configuration', { config: { public: true } }, async (_req, reply) => {
    let doc: Record<string, unknown>;
    if (issuer) doc = issuer.smartConfiguration();
    else {
      // An external provider: its endpoints, from its OpenID discovery document (cached).
      external ??= fetch(`${auth.issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(5000),
      }).then(async (r) => {
        if (r.status !== 200) throw new Error(`issuer discovery answered ${r.status}`);
        return (await r.json()) as Record<string, unknown>;
      });
      external.catch(() => {
        external = undefined;
      });
      const oidc = await external;
      doc = {
        issuer: oidc.issuer,
        jwks_uri: oidc.jwks_uri,
        authorization_endpoint: oidc.authorization_endpoint,
        token_endpoint: oidc.token_endpoint,
        grant_types_supported: oidc.grant_types_supported ?? ['authorization_code'],
        scopes_supported: oidc.scopes_supported,
        response_types_supported: oidc.response_types_supported ?? ['code'],
        code_challenge_methods_supported: oidc.code_challenge_methods_supported ?? ['S256'],
        capabilities: ['launch-standalone', 'permission-v1', 'permission-v2', 'permission-patient', 'permission-user'],
      };
    }
    return reply.header('cache-control', 'public, max-age=300').send(doc);
  });

  if (issuer) {
    app.get('/.well-known/openid-configuration', { config: { public: true } }, async () =>
      issuer.openidConfiguration(),
    );
    app.get('/.well-known/jwks.json', { config: { public: true } }, async () => issuer.jwks());
  }

  if (issuer && opts.demo) {
    // Demo sign-in (embedded mode only): one user per role, no password. OAuth 2.0 token response.
    app.get('/auth/demo-users', { config: { public: true } }, async () => demoUsers());
    app.post('/auth/token', { config: { public: true } }, async (req, reply) => {
      const body = req.body;
      const fields =
        typeof body === 'string'
          ? Object.fromEntries(new URLSearchParams(body))
          : ((body as Record<string, string> | undefined) ?? {});
      const userId = fields.username ?? fields.user;
      const user = demoUsers().find((u) => u.id === userId);
      if (!user) {
        return reply.code(400).send({
          error: 'invalid_grant',
          error_description: `unknown demo user ${JSON.stringify(userId)}; see GET /auth/demo-users`,
        });
      }
      const issued = await issuer.issueToken({
        user: user.id,
        role: user.role,
        org: user.org,
        patient: user.patient,
        fhirUser: user.fhirUser,
        scope: fields.scope,
        clientId: 'dxhub-demo',
      });
      if (!issued.ok) return reply.code(400).send({ error: issued.error, error_description: issued.message });
      await audit.record({
        action: 'login',
        agent: user.fhirUser ?? user.id,
        agentName: user.name,
        organisation: user.org,
        role: user.role,
        sourceIp: req.ip,
        client: 'dxhub-demo',
        requestId: String(req.id),
        detail: 'demo sign-in',
      });
      return reply.header('cache-control', 'no-store').send({
        access_token: issued.accessToken,
        token_type: issued.tokenType,
        expires_in: issued.expiresIn,
        scope: issued.scope,
        ...(issued.patient ? { patient: issued.patient } : {}),
      });
    });
  }

  /** Citizens see the log of their own record only; the log is read by admins (scope AuditEvent.rs). */
  const ownPatient = (req: FastifyRequest, asked: string | undefined): string | undefined => {
    const p = req.principal!;
    if (!p.role.ownDataOnly) return asked;
    if (asked !== undefined && asked !== p.patient) {
      throw Errors.forbidden('a citizen sees only who looked at their own data');
    }
    return p.patient;
  };

  app.get('/fhir/AuditEvent', async (req: FastifyRequest, reply: FastifyReply) => {
    const guard = access.guard(req);
    guard.permit('AuditEvent', 'search-type');
    const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    let patient: string | undefined;
    let agent: string | undefined;
    let outcome: string | undefined;
    let since: number | undefined;
    let until: number | undefined;
    let before: number | undefined;
    let count = 50;
    const actions: string[] = [];
    for (const [k, v] of query) {
      if (k === 'patient' || k === 'entity') patient = v.replace(/^(.*\/)?Patient\//, '');
      else if (k === 'agent') agent = v;
      else if (k === 'subtype') {
        for (const part of v.split(',')) {
          const code = part.slice(part.indexOf('|') + 1);
          const action = SUBTYPE_ACTION[code];
          if (!action) throw Errors.invalidSearchValue(k, part, 'not an AuditEvent subtype dxhub records');
          actions.push(action);
        }
      } else if (k === 'outcome') {
        outcome = OUTCOME[v];
        if (!outcome) throw Errors.invalidSearchValue(k, v, 'expected 0, 4, 8 or 12');
      } else if (k === 'date') {
        const m = /^(eq|ge|gt|le|lt)?(.+)$/.exec(v)!;
        const r = instant(m[1] ?? '', m[2]!, k);
        if (r.since !== undefined) since = Math.max(since ?? 0, r.since);
        if (r.until !== undefined) until = Math.min(until ?? Number.MAX_SAFE_INTEGER, r.until);
      } else if (k === '_count') {
        count = Number(v);
        if (!Number.isInteger(count) || count < 1) throw Errors.invalidSearchValue(k, v, 'expected a positive integer');
        count = Math.min(count, 1000);
      } else if (k === '_page') {
        before = Number(v);
        if (!Number.isInteger(before)) throw Errors.invalidSearchValue(k, v, 'not a page token of this server');
      } else if (k !== '_format') throw Errors.unknownSearchParam('AuditEvent', k);
    }
    try {
      patient = ownPatient(req, patient);
    } catch (err) {
      throw await guard.deny((err as Error).message.replace(/^Access denied: /, ''), { patient });
    }
    // Entries recorded a moment ago may still be in the journal.
    await audit.flushed();
    const rows = await searchAuditLog(access.audit.db, {
      patient,
      agent,
      actions,
      outcome,
      since,
      until,
      before,
      count: count + 1,
    });
    const page = rows.slice(0, count);
    const self = `${auth.fhirBase}/AuditEvent${query.size ? `?${query}` : ''}`;
    const links = [{ relation: 'self', url: self }];
    if (rows.length > count) {
      const next = new URLSearchParams([...query].filter(([k]) => k !== '_page'));
      next.set('_page', String(page[page.length - 1]!.seq));
      links.push({ relation: 'next', url: `${auth.fhirBase}/AuditEvent?${next}` });
    }
    await guard.auditSearch(`AuditEvent${query.size ? `?${query}` : ''}`);
    const entries = page.map(
      (r) =>
        `{"fullUrl":${JSON.stringify(`${auth.fhirBase}/AuditEvent/${r.seq}`)},"resource":${withId(r.seq, r.event)},"search":{"mode":"match"}}`,
    );
    return reply
      .type(FHIR_JSON)
      .send(
        `{"resourceType":"Bundle","type":"searchset","link":${JSON.stringify(links)},"entry":[${entries.join(',')}]}`,
      );
  });

  app.get<{ Params: { id: string } }>('/fhir/AuditEvent/:id', async (req, reply) => {
    const guard = access.guard(req);
    guard.permit('AuditEvent', 'read');
    const seq = Number(req.params.id);
    await audit.flushed();
    const found = Number.isInteger(seq) ? await readAuditEntry(access.audit.db, seq) : undefined;
    if (!found) throw Errors.notFound('AuditEvent', req.params.id);
    const event = found.event as { entity?: { what?: { reference?: string } }[] };
    const patient = event.entity?.find((e) => e.what?.reference?.startsWith('Patient/'))?.what?.reference?.slice(8);
    const p = req.principal!;
    if (p.role.ownDataOnly && patient !== p.patient) {
      // Not found rather than forbidden: a citizen learns nothing about other people's entries.
      await guard.deny('a citizen sees only who looked at their own data', { resource: `AuditEvent/${seq}` });
      throw Errors.notFound('AuditEvent', req.params.id);
    }
    return reply.type(FHIR_JSON).send(withId(found.seq, found.event));
  });
}
