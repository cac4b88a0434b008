import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEMO_CAPACITY, REGION_ORGANISATIONS } from '../core/demo/region-catalogue.ts';
import { operationsConfigOf } from './app.ts';

describe('management-information configuration (DXHUB_OPERATIONS_CONFIG)', () => {
  it('has no capacity by default, the demo region’s invented capacities in demo mode', () => {
    assert.deepEqual(operationsConfigOf({ demo: false, operationsConfig: undefined }).capacity, []);
    const demo = operationsConfigOf({ demo: true, operationsConfig: undefined }).capacity;
    assert.equal(demo.length, DEMO_CAPACITY.length);
    const sections = REGION_ORGANISATIONS.filter((o) => o.role === 'lab' || o.role === 'imaging').map((o) => o.code);
    assert.deepEqual(
      demo.map((c) => c.unit),
      sections,
    );
    assert.ok(demo.every((c) => c.resultsPerHour > 0 && /invented/.test(c.source)));
  });
  it('reads a region’s file over the defaults, and refuses a capacity without a source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-ops-config-'));
    try {
      const file = join(dir, 'ops.json');
      writeFileSync(
        file,
        JSON.stringify({ capacity: [{ unit: '1003', resultsPerHour: 120, source: 'KBA 2026 budget' }] }),
      );
      const c = operationsConfigOf({ demo: true, operationsConfig: file });
      assert.deepEqual(c.capacity, [{ unit: '1003', resultsPerHour: 120, source: 'KBA 2026 budget' }]);
      assert.ok(c.targets.length > 0, 'the default targets stay');
      writeFileSync(file, JSON.stringify({ capacity: [{ unit: '1003', resultsPerHour: 120 }] }));
      assert.throws(() => operationsConfigOf({ demo: false, operationsConfig: file }), /a source is required/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
