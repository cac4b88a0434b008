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
}
// Schemas left by earlier PostgreSQL test runs are dropped first (best effort).
step('clean old test schemas', process.execPath, [
  '-e',
  "import('./test/support/dialects.ts').then((m) => m.dropTestSchemas()).catch((e) => console.log('# skipped: ' + e.message))",
]);
const files = only.length ? only : globSync(['src/**/*.test.ts', 'test/**/*.test.ts']).sort();
step('tests (node --test)', process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files]);
