import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

/** Layers point one way (CONVENTIONS §1): core ← store ← services ← server. */
const LAYER: Record<string, number> = {
  core: 0,
  store: 1,
  'fhir-api': 2,
  identity: 2,
  audit: 2,
  access: 2,
  delivery: 2,
  security: 2,
  ingest: 2,
  ordering: 2,
  results: 2,
  demo: 2,
  operations: 2,
  server: 3,
  cli: 4,
};

function layerOf(path: string): number | undefined {
  const m = /^src\/([^/]+)\//.exec(path);
  return m ? LAYER[m[1]!] : undefined;
}

const files = globSync('src/**/*.ts').filter((f) => !f.endsWith('.test.ts'));

test('imports never point up a layer', () => {
  const violations: string[] = [];
  for (const file of files) {
    const own = layerOf(file);
    if (own === undefined) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = new URL(m[1]!, `file:///${file}`).pathname.slice(1);
      const other = layerOf(target);
      if (other !== undefined && other > own) violations.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('database drivers are imported only in src/store/dialect/', () => {
  const violations = files.filter(
    (f) =>
      !f.startsWith('src/store/dialect/') && /from '(pg|node:sqlite|better-sqlite3)'/.test(readFileSync(f, 'utf8')),
  );
  assert.deepEqual(violations, []);
});

test('core is pure: no I/O modules', () => {
  const io = /from '(node:)?(fs|net|http|https|child_process|dgram|tls)(\/promises)?'/;
  const violations = files.filter((f) => f.startsWith('src/core/') && io.test(readFileSync(f, 'utf8')));
  assert.deepEqual(violations, []);
});
