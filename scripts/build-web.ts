/**
 * Builds the web app (web/ → web/dist) with Vite when the build is missing or older than its
 * sources, so `npm start` and the browser tests always serve the current UI. `node scripts/build-web.ts`
 * (add `--force` to rebuild regardless).
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WEB_ROOT = join(ROOT, 'web');
export const WEB_DIST = join(WEB_ROOT, 'dist');
const STAMP = join(WEB_DIST, '.built');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('dist') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when web/dist is missing or a source (or the lock file) changed after the last build. */
export function webBuildStale(): boolean {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return Math.max(newestSource(WEB_ROOT), statSync(join(ROOT, 'package-lock.json')).mtimeMs) > built;
}

/** Builds the UI if stale; returns whether it built. */
export async function ensureWebBuilt(opts: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!opts.force && !webBuildStale()) return false;
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  // Built next to the old output and swapped in, so a server (or a second build started by a
  // parallel test) never reads a half-written directory.
  const out = `${WEB_DIST}.${process.pid}.tmp`;
  await build({
    root: WEB_ROOT,
    configFile: false,
    logLevel: opts.quiet ? 'error' : 'info',
    plugins: [react()],
    build: { outDir: out, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1000 },
  });
  writeFileSync(join(out, '.built'), new Date().toISOString());
  rmSync(WEB_DIST, { recursive: true, force: true });
  renameSync(out, WEB_DIST);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const built = await ensureWebBuilt({ force: process.argv.includes('--force') });
  process.stdout.write(
    built ? `web app built in ${Math.round(performance.now() - t0)} ms\n` : 'web app up to date (web/dist)\n',
  );
}
