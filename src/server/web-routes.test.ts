import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { webRoutes } from './web-routes.ts';

describe('web routes: the built app at /, its assets, /app/ redirect', () => {
  let dist: string;
  let app: FastifyInstance;
  let empty: FastifyInstance;
  before(async () => {
    dist = mkdtempSync(join(tmpdir(), 'dxhub-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, '.built'), 'x');
    app = Fastify();
    await app.register(webRoutes, { dist });
    empty = Fastify();
    await empty.register(webRoutes, { dist: join(dist, 'missing') });
  });
  after(async () => {
    await app.close();
    await empty.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it('serves index.html (no-cache) and hashed assets (immutable) with their content types', async () => {
    const index = await app.inject({ url: '/' });
    assert.equal(index.statusCode, 200);
    assert.match(index.headers['content-type'] as string, /^text\/html/);
    assert.equal(index.headers['cache-control'], 'no-cache');
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    assert.match(js.headers['cache-control'] as string, /immutable/);
  });

  it('answers 404 for unknown, dot and traversal asset names', async () => {
    for (const url of ['/assets/nope.js', '/assets/.built', '/assets/..%2Findex.html', '/assets/x.exe']) {
      assert.equal((await app.inject({ url })).statusCode, 404, url);
    }
  });

  it('redirects the first app address /app/ to /', async () => {
    for (const url of ['/app', '/app/', '/app/app.js']) {
      const r = await app.inject({ url });
      assert.equal(r.statusCode, 302, url);
      assert.equal(r.headers.location, '/');
    }
  });

  it('says how to build the app when it is not built', async () => {
    const r = await empty.inject({ url: '/' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /scripts\/build-web\.ts/);
  });
});
