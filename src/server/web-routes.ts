import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** The browser app's files (no patient data in them: public, like the capability statement). */
const FILES: Record<string, string> = {
  '': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};
const ROOT = join(import.meta.dirname, '..', '..', 'web');

/**
 * Serves the web app at `/app/` (sign-in, the signed-in user, a citizen's access log, a
 * professional's look-up). Every data call it makes carries the user's token; the files are public.
 */
export async function webRoutes(app: FastifyInstance) {
  const cache = new Map<string, Buffer>();
  const file = async (name: string) => {
    let b = cache.get(name);
    if (!b) {
      b = await readFile(join(ROOT, name === '' ? 'index.html' : name));
      cache.set(name, b);
    }
    return b;
  };
  app.get('/', { config: { public: true } }, async (_req, reply) => reply.redirect('/app/'));
  // Browsers ask for it on every page; no icon, and no 401 in their console.
  app.get('/favicon.ico', { config: { public: true } }, async (_req, reply) => reply.code(204).send());
  app.get<{ Params: { file: string } }>('/app/:file', { config: { public: true } }, async (req, reply) => {
    const type = FILES[req.params.file];
    if (type === undefined) return reply.code(404).type('text/plain').send('not found');
    return reply
      .type(type)
      .header('cache-control', 'no-cache')
      .send(await file(req.params.file));
  });
  app.get('/app/', { config: { public: true } }, async (_req, reply) =>
    reply
      .type(FILES['']!)
      .header('cache-control', 'no-cache')
      .send(await file('')),
  );
}
