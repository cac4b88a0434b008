import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** Content types of what Vite emits (web/dist). */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
/** The built web app (`scripts/build-web.ts`; `npm start` builds it when missing or stale). */
export const WEB_DIST = join(import.meta.dirname, '..', '..', 'web', 'dist');

/**
 * Serves the web app (React, built by Vite) at `/`: `index.html` and its hashed `/assets/*` files.
 * The files hold no patient data and are public, like the capability statement; every data call
 * the app makes carries the user's token. `/app/` (the first app's address) redirects to `/`.
 */
export async function webRoutes(app: FastifyInstance, opts: { dist?: string; oidcIssuer?: string } = {}) {
  const dist = opts.dist ?? WEB_DIST;
  // The page exchanges the sign-in code at the external issuer's token endpoint (PKCE), so its
  // origin joins `connect-src`; everything else stays as strict as the default policy (hardening.ts).
  const csp = [
    "default-src 'self'",
    `connect-src 'self'${opts.oidcIssuer ? ` ${new URL(opts.oidcIssuer).origin}` : ''}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
  const cache = new Map<string, Buffer>();
  const file = async (path: string) => {
    let b = cache.get(path);
    if (!b) {
      b = await readFile(join(dist, path));
      cache.set(path, b);
    }
    return b;
  };
  const index = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    try {
      return reply
        .type(TYPES['.html']!)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', csp)
        .send(await file('index.html'));
    } catch {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The web app is not built: run `node scripts/build-web.ts` (npm start does it).');
    }
  };
  app.get('/', { config: { public: true } }, index);
  app.get('/app', { config: { public: true } }, async (_req, reply) => reply.redirect('/'));
  app.get('/app/*', { config: { public: true } }, async (_req, reply) => reply.redirect('/'));
  // Browsers ask for it on every page; no icon, and no 401 in their console.
  app.get('/favicon.ico', { config: { public: true } }, async (_req, reply) => reply.code(204).send());
  app.get<{ Params: { file: string } }>('/assets/:file', { config: { public: true } }, async (req, reply) => {
    const name = req.params.file;
    const type = TYPES[extname(name)];
    // Only the flat, hashed names Vite writes: no path segments, no dot files.
    if (type === undefined || !/^[\w.-]+$/.test(name) || name.startsWith('.')) {
      return reply.code(404).type('text/plain').send('not found');
    }
    try {
      const body = await file(join('assets', name));
      // Content-hashed names never change: cache for a year.
      return reply.type(type).header('cache-control', 'public, max-age=31536000, immutable').send(body);
    } catch {
      return reply.code(404).type('text/plain').send('not found');
    }
  });
}
