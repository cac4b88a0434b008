import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type DxhubConfig, loadConfig } from './config.ts';
import { createRateLimiter, leaksInternals, rateLimitHook, registerHardening, serverOptions } from './hardening.ts';

/**
 * The hardening hooks on small standalone Fastify instances (not the full app, so that these tests
 * do not depend on authentication): headers, CORS, leak guard, rate limits, TLS and log masking.
 */

const UI = 'https://ui.example.dk';
const plain: Pick<DxhubConfig, 'corsOrigins' | 'tlsCert' | 'tlsKey'> = {
  corsOrigins: [],
  tlsCert: undefined,
  tlsKey: undefined,
};

function hardenedApp(config: Partial<typeof plain> = {}): FastifyInstance {
  const app = Fastify({ logger: false });
  registerHardening(app, { ...plain, ...config });
  // Stands in for the authentication hook, registered after the hardening: no token → 401.
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/fhir') && !req.headers.authorization) {
      return reply.code(401).send({ resourceType: 'OperationOutcome' });
    }
  });
  app.get('/fhir/Patient/1', async (_req, reply) => reply.header('etag', 'W/"1"').send({ resourceType: 'Patient' }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/app', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><p>dxhub</p>'));
  return app;
}

const bearer = { authorization: 'Bearer t' };

describe('security headers', () => {
  it('are on every response; no-store only on /fhir; no HSTS without TLS; no CORS without an allowlist', async () => {
    const app = hardenedApp();
    const fhir = await app.inject({ url: '/fhir/Patient/1', headers: { ...bearer, origin: UI } });
    const health = await app.inject({ url: '/healthz' });
    const missing = await app.inject({ url: '/nowhere' });
    const page = await app.inject({ url: '/app' });
    for (const res of [fhir, health, missing, page]) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(res.headers['strict-transport-security'], undefined);
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      assert.equal(res.headers.vary, undefined);
    }
    // JSON (the API): the OWASP REST set; nothing may load from it.
    for (const res of [fhir, health, missing]) {
      assert.match(String(res.headers['content-type']), /json/);
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
      assert.equal(res.headers['referrer-policy'], undefined);
    }
    // A page: also the headers that act on documents.
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(fhir.statusCode, 200);
    assert.equal(fhir.headers['cache-control'], 'no-store');
    assert.equal(health.headers['cache-control'], undefined);
    await app.close();
  });

  it('add HSTS when TLS is configured', async () => {
    const app = hardenedApp({ tlsCert: '/c.pem', tlsKey: '/k.pem' });
    const res = await app.inject({ url: '/healthz' });
    assert.match(String(res.headers['strict-transport-security']), /^max-age=\d{7,}/);
    await app.close();
  });
});

describe('CORS allowlist', () => {
  it('answers an allowed origin with its origin, Vary and the exposed headers, without CORP', async () => {
    const app = hardenedApp({ corsOrigins: [UI] });
    const res = await app.inject({ url: '/fhir/Patient/1', headers: { ...bearer, origin: UI } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], UI);
    assert.match(String(res.headers.vary), /\bOrigin\b/);
    const exposed = String(res.headers['access-control-expose-headers']);
    for (const h of ['ETag', 'Location', 'Content-Location', 'Last-Modified', 'X-Request-Id']) {
      assert.ok(exposed.includes(h), h);
    }
    assert.equal(res.headers['cross-origin-resource-policy'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    await app.close();
  });

  it('gives another origin no CORS headers, but Vary: Origin', async () => {
    const app = hardenedApp({ corsOrigins: [UI] });
    for (const origin of ['https://evil.example', 'https://ui.example.dk.evil.example', 'http://ui.example.dk']) {
      const res = await app.inject({ url: '/fhir/Patient/1', headers: { ...bearer, origin } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(res.headers['access-control-expose-headers'], undefined);
      assert.match(String(res.headers.vary), /\bOrigin\b/);
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
    }
    await app.close();
  });

  it('answers an allowed preflight with 204 before authentication', async () => {
    const app = hardenedApp({ corsOrigins: ['https://other.example', UI] });
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/fhir/Patient/1',
      headers: {
        origin: UI,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, if-match, x-vaerdispring',
      },
    });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal(res.headers['access-control-allow-origin'], UI);
    assert.match(String(res.headers['access-control-allow-methods']), /\bPUT\b.*\bDELETE\b/);
    const allowed = String(res.headers['access-control-allow-headers']).toLowerCase().split(/,\s*/);
    for (const h of ['authorization', 'content-type', 'if-match', 'if-none-exist', 'prefer', 'x-request-id']) {
      assert.ok(allowed.includes(h), h);
    }
    assert.ok(allowed.includes('x-vaerdispring'));
    assert.ok(Number(res.headers['access-control-max-age']) > 0);
    assert.match(String(res.headers.vary), /Origin.*Access-Control-Request-Method/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    await app.close();
  });

  it('refuses a preflight from another origin, or any preflight without an allowlist, with 403', async () => {
    for (const corsOrigins of [[UI], []]) {
      const app = hardenedApp({ corsOrigins });
      const res = await app.inject({
        method: 'OPTIONS',
        url: '/fhir/Patient',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(res.statusCode, 403);
      assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
      const outcome = res.json();
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.equal(outcome.issue[0].code, 'forbidden');
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      assert.equal(res.headers['access-control-allow-methods'], undefined);
      await app.close();
    }
  });

  it('leaves an OPTIONS request that is not a preflight to the router', async () => {
    const app = hardenedApp({ corsOrigins: [UI] });
    const res = await app.inject({ method: 'OPTIONS', url: '/healthz', headers: { origin: UI } });
    assert.equal(res.statusCode, 404);
    await app.close();
  });
});

describe('error responses never show a stack trace or SQL', () => {
  const SQL = 'SQLITE_ERROR: no such column: cpr in SELECT id, body FROM resource WHERE cpr = ?';

  it('replaces a leaking 500 (Fastify default handler) with the generic OperationOutcome', async () => {
    const app = hardenedApp();
    app.get('/boom', async () => {
      throw new Error(SQL);
    });
    const res = await app.inject({ url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    assert.doesNotMatch(res.body, /SELECT|SQLITE|resource WHERE/);
    const outcome = res.json();
    assert.equal(outcome.issue[0].code, 'exception');
    assert.match(outcome.issue[0].diagnostics, /request req-\d+/);
    await app.close();
  });

  it('replaces a body carrying a stack trace, whatever its status', async () => {
    const app = hardenedApp();
    app.setErrorHandler((err: Error, _req, reply) => reply.code(400).send({ message: err.message, stack: err.stack }));
    app.get('/boom', async () => {
      throw new Error('bad thing');
    });
    const res = await app.inject({ url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.doesNotMatch(res.body, /hardening\.test\.ts|\bat /);
    await app.close();
  });

  it('keeps a client error that echoes the client’s own SQL-looking input', async () => {
    const app = hardenedApp();
    app.get('/search', async (_req, reply) =>
      reply
        .code(400)
        .send({ resourceType: 'OperationOutcome', issue: [{ diagnostics: "Invalid value 'select * from x'" }] }),
    );
    const res = await app.inject({ url: '/search' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /select \* from x/);
    await app.close();
  });

  it('recognises V8 stack frames and driver messages', () => {
    const stack = new Error('x').stack ?? '';
    assert.ok(leaksInternals(400, JSON.stringify({ stack })));
    assert.ok(leaksInternals(500, 'duplicate key value violates unique constraint "resource_pkey"'));
    assert.ok(leaksInternals(500, 'relation "resource" does not exist'));
    assert.ok(leaksInternals(503, 'insert into audit_event values (…)'));
    assert.ok(!leaksInternals(500, 'Internal error (request req-1); see the server log'));
    assert.ok(!leaksInternals(404, 'Patient/at-1 not found'));
  });
});

describe('rate limiter', () => {
  it('allows a burst, then refuses with Retry-After until the bucket refills', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 60, burst: 3, now: () => t });
    assert.deepEqual(
      [1, 2, 3].map(() => limiter.take('a').allowed),
      [true, true, true],
    );
    const refused = limiter.take('a');
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.equal(refused.remaining, 0);
    assert.equal(refused.resetSeconds, 3);
    t += 1000;
    assert.equal(limiter.take('a').allowed, true);
    assert.equal(limiter.take('a').allowed, false);
    t += 60_000;
    const full = limiter.take('a');
    assert.equal(full.allowed, true);
    assert.equal(full.remaining, 2);
  });

  it('keeps at most maxKeys buckets, forgetting the least recently seen', () => {
    const limiter = createRateLimiter({ perMinute: 60, burst: 1, maxKeys: 2, now: () => 0 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('a');
    limiter.take('c');
    assert.equal(limiter.size, 2);
    assert.equal(limiter.take('a').allowed, false, 'a was seen last, so b was forgotten');
    assert.equal(limiter.take('b').allowed, true, 'b starts again with a full bucket');
  });

  it('is off at 0 per minute and refuses a burst of 0 otherwise', () => {
    const off = createRateLimiter({ perMinute: 0, burst: 0 });
    assert.equal(off.enabled, false);
    for (let i = 0; i < 5; i++) assert.equal(off.take('a').allowed, true);
    assert.throws(() => createRateLimiter({ perMinute: 60, burst: 0 }), /DXHUB_RATE_LIMIT_BURST/);
  });
});

describe('rate limit hook', () => {
  function limitedApp(perMinute: number, now: () => number) {
    const app = hardenedApp();
    // Stands in for authentication: sets the principal the hook keys on.
    app.addHook('onRequest', async (req) => {
      const subject = req.headers['x-test-subject'];
      if (typeof subject === 'string') (req as { principal?: { subject: string } }).principal = { subject };
    });
    app.addHook('onRequest', rateLimitHook(createRateLimiter({ perMinute, burst: 2, now })));
    return app;
  }
  const as = (subject: string) => ({ ...bearer, 'x-test-subject': subject });

  it('answers 429 with Retry-After and a throttled OperationOutcome per principal, and refills', async () => {
    let t = 0;
    const app = limitedApp(60, () => t);
    const first = await app.inject({ url: '/fhir/Patient/1', headers: as('alice') });
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['ratelimit-limit'], '2');
    assert.equal(first.headers['ratelimit-remaining'], '1');
    assert.equal((await app.inject({ url: '/fhir/Patient/1', headers: as('alice') })).statusCode, 200);

    const refused = await app.inject({ url: '/fhir/Patient/1', headers: as('alice') });
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(String(refused.headers['content-type']), /^application\/fhir\+json/);
    assert.equal(refused.headers['x-content-type-options'], 'nosniff');
    const outcome = refused.json();
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.equal(outcome.issue[0].code, 'throttled');

    // Another principal, and an anonymous client keyed by its IP, have buckets of their own.
    assert.equal((await app.inject({ url: '/fhir/Patient/1', headers: as('bob') })).statusCode, 200);
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/healthz', headers: { 'x-test-subject': '127.0.0.1' } })).statusCode, 200);

    t += 1000;
    assert.equal((await app.inject({ url: '/fhir/Patient/1', headers: as('alice') })).statusCode, 200);
    assert.equal((await app.inject({ url: '/fhir/Patient/1', headers: as('alice') })).statusCode, 429);
    await app.close();
  });

  it('adds nothing when off', async () => {
    const app = limitedApp(0, () => 0);
    for (let i = 0; i < 4; i++) {
      const res = await app.inject({ url: '/healthz' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['ratelimit-limit'], undefined);
    }
    await app.close();
  });
});

describe('TLS', () => {
  function withCert(fn: (dir: string, cert: string, key: string) => Promise<void>) {
    return async (t: { skip(why: string): void }) => {
      const dir = mkdtempSync(join(tmpdir(), 'dxhub-tls-'));
      try {
        const cert = join(dir, 'cert.pem');
        const key = join(dir, 'key.pem');
        try {
          execFileSync(
            'openssl',
            ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat([
              '-subj',
              '/CN=localhost',
              '-keyout',
              key,
              '-out',
              cert,
            ]),
            { stdio: 'pipe' },
          );
        } catch (e) {
          t.skip(`openssl could not make a test certificate: ${(e as Error).message}`);
          return;
        }
        await fn(dir, cert, key);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
  }

  it(
    'serves HTTPS with the configured certificate and sends HSTS',
    withCert(async (_dir, cert, key) => {
      const config = loadConfig({ DXHUB_TLS_CERT: cert, DXHUB_TLS_KEY: key }, { logLevel: 'silent' });
      const options = serverOptions(config);
      assert.ok(options.https?.cert.toString().includes('BEGIN CERTIFICATE'));
      assert.ok(options.https?.key.toString().includes('PRIVATE KEY'));
      const app = Fastify({ forceCloseConnections: true, ...options });
      registerHardening(app, config);
      app.get('/healthz', async () => ({ status: 'ok' }));
      await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        const { port } = app.server.address() as AddressInfo;
        const res = await new Promise<{ status: number; hsts: unknown; body: string }>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, agent: false },
            (r) => {
              let body = '';
              r.setEncoding('utf8');
              r.on('data', (c: string) => {
                body += c;
              });
              r.on('end', () =>
                resolve({ status: r.statusCode ?? 0, hsts: r.headers['strict-transport-security'], body }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        });
        assert.equal(res.status, 200);
        assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
        assert.match(String(res.hsts), /^max-age=/);
      } finally {
        await app.close();
      }
    }),
  );

  it(
    'fails at startup naming the problem: one of the pair, an unreadable file, a key of another certificate',
    withCert(async (dir, cert, key) => {
      assert.throws(() => serverOptions({ tlsCert: cert, tlsKey: undefined, logLevel: 'silent' }), /DXHUB_TLS_KEY/);
      assert.throws(() => serverOptions({ tlsCert: undefined, tlsKey: key, logLevel: 'silent' }), /DXHUB_TLS_CERT/);
      const gone = join(dir, 'missing.pem');
      assert.throws(
        () => serverOptions({ tlsCert: cert, tlsKey: gone, logLevel: 'silent' }),
        (e: Error) => e.message.includes('DXHUB_TLS_KEY') && e.message.includes(gone),
      );
      const otherKey = join(dir, 'other-key.pem');
      writeFileSync(
        otherKey,
        execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']),
      );
      assert.throws(() => serverOptions({ tlsCert: cert, tlsKey: otherKey, logLevel: 'silent' }), /DXHUB_TLS_CERT/);
      assert.equal(serverOptions({ tlsCert: undefined, tlsKey: undefined, logLevel: 'silent' }).https, undefined);
    }),
  );
});

describe('logging', () => {
  it('masks CPR numbers in URLs, errors and messages and never writes Authorization', async () => {
    const lines: string[] = [];
    const options = serverOptions(
      { tlsCert: undefined, tlsKey: undefined, logLevel: 'info' },
      { logStream: { write: (line) => lines.push(line) } },
    );
    const app = Fastify({ ...options });
    registerHardening(app, plain);
    app.get('/fhir/Patient', async (req) => {
      req.log.info({ headers: req.headers, note: 'for 2911261234' }, 'searched %s', '0101001234');
      throw new Error('no patient 010203-1234');
    });
    const res = await app.inject({
      url: '/fhir/Patient?identifier=urn:oid:1.2.208.176.1.2%7C0101001234',
      headers: { authorization: 'Bearer s3cret-token', cookie: 'sid=s3cret-cookie' },
    });
    assert.equal(res.statusCode, 500);
    await app.close();

    const log = lines.join('');
    assert.match(log, /010100-XXXX/, 'the URL and the message are logged, masked');
    assert.match(log, /010203-XXXX/, 'the error is logged, masked');
    assert.match(log, /291126-XXXX/);
    for (const secret of ['0101001234', '010203-1234', '2911261234', 's3cret-token', 's3cret-cookie']) {
      assert.ok(!log.includes(secret), `${secret} in the log`);
    }
    assert.match(log, /\[redacted\]/);
  });

  it('is off at level silent', () => {
    assert.equal(serverOptions({ tlsCert: undefined, tlsKey: undefined, logLevel: 'silent' }).logger, false);
  });
});

describe('configuration', () => {
  it('reads the hardening variables with their defaults', () => {
    const d = loadConfig({});
    assert.deepEqual(
      [d.corsOrigins, d.rateLimitPerMinute, d.rateLimitBurst, d.tlsCert, d.tlsKey],
      [[], 6000, 600, undefined, undefined],
    );
    const c = loadConfig({
      DXHUB_CORS_ORIGINS: ' https://ui.example.dk , http://localhost:5173',
      DXHUB_RATE_LIMIT_PER_MINUTE: '0',
      DXHUB_RATE_LIMIT_BURST: '10',
    });
    assert.deepEqual(c.corsOrigins, ['https://ui.example.dk', 'http://localhost:5173']);
    assert.equal(c.rateLimitPerMinute, 0);
    assert.equal(c.rateLimitBurst, 10);
  });

  it('refuses origins a browser would never send, and bad numbers', () => {
    for (const bad of ['*', 'https://ui.example.dk/', 'https://ui.example.dk/app', 'ui.example.dk', 'ftp://x.dk']) {
      assert.throws(() => loadConfig({ DXHUB_CORS_ORIGINS: bad }), /DXHUB_CORS_ORIGINS/, bad);
    }
    assert.throws(() => loadConfig({ DXHUB_RATE_LIMIT_PER_MINUTE: '-1' }), /DXHUB_RATE_LIMIT_PER_MINUTE/);
    assert.throws(() => loadConfig({ DXHUB_RATE_LIMIT_BURST: 'lots' }), /DXHUB_RATE_LIMIT_BURST/);
  });
});
