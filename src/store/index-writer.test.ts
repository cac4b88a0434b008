import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IndexRows } from '../core/fhir/index-rows.ts';
import { INDEX_TABLES, IndexWriter } from './index-writer.ts';

const empty = (): IndexRows =>
  Object.fromEntries(Object.keys(INDEX_TABLES).map((k) => [k, []])) as unknown as IndexRows;

describe('IndexWriter.take', () => {
  it('returns the tables in one fixed order, whatever kind of row was queued first', () => {
    const w = new IndexWriter(() => 1);
    // First a resource with only a string row, then one with a date and a token row.
    w.queue('Patient', 1, undefined, { ...empty(), string: [['name', 'hansen', 'Hansen']] });
    w.queue('Observation', 2, undefined, {
      ...empty(),
      date: [['date', 1, 2]],
      token: [['code', 'http://loinc.org', '1988-5']],
    });
    const { inserts, deletes } = w.take();
    const order = Object.values(INDEX_TABLES).map((t) => t.table);
    const tables = inserts.map((p) => p.table);
    assert.deepEqual(tables, ['idx_token', 'idx_string', 'idx_date']);
    assert.deepEqual(
      tables,
      [...tables].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    );
    assert.equal(deletes.length, 0);
    // Taken: nothing is left for the next flush.
    assert.deepEqual(w.take(), { inserts: [], deletes: [] });
  });
});
