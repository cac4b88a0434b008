/**
 * `npm test`: lint, type check, then every test file with Node's test runner. The store contract
 * suite runs on the dialects of DXHUB_TEST_DIALECTS (see test/support/dialects.ts).
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

function step(name: string, cmd: string, args: string[]): void {
  process.stdout.write(`\n# ${name}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`# ${name} failed\n`);
    process.exit(r.status ?? 1);
  }
}

const only = process.argv.slice(2);
if (only.length === 0) {
  step('lint (biome)', 'npx', ['biome', 'check', '.']);
  step('types (tsc --noEmit)', 'npx', ['tsc', '--noEmit']);
  step('types of the web app (tsc --noEmit -p web)', 'npx', ['tsc', '--noEmit', '-p', 'web']);
}
// CI only: a runtime dependency with a known high or critical vulnerability fails the build. Dev
// tools are left out: they never run in production (`--omit=dev`). A registry that does not serve
// the advisory endpoint (a GET-only mirror answers its POST with 405) is reported as a skip, not
// taken for a clean audit and not for a finding.
if (process.env.CI && only.length === 0) {
  const name = 'security audit (npm audit)';
  const args = ['audit', '--audit-level=high', '--omit=dev'];
  const r = spawnSync('npm', [...args, '--json'], { encoding: 'utf8' });
  let report: { metadata?: unknown; error?: unknown; message?: string } = {};
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = {};
  }
  if (r.status !== 0 && report.metadata === undefined && report.error !== undefined) {
    process.stdout.write(
      `\n# ${name}\n# skipped: the advisory endpoint is unavailable: ${report.message ?? 'no answer'}\n`,
    );
  } else {
    step(name, 'npm', args);
  }
}
// The browser tests serve the built web app: build it once here, not in parallel test files.
step('build the web app (when stale)', process.execPath, ['scripts/build-web.ts']);
// Schemas left by earlier PostgreSQL test runs are dropped first (best effort).
step('clean old test schemas', process.execPath, [
  '-e',
  "import('./test/support/dialects.ts').then((m) => m.dropTestSchemas()).catch((e) => console.log('# skipped: ' + e.message))",
]);
const files = only.length ? only : globSync(['src/**/*.test.ts', 'test/**/*.test.ts']).sort();
step('tests (node --test)', process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files]);
