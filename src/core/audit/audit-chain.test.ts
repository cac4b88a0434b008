import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { auditFields, chainEntries, checkLink } from './audit-chain.ts';
import type { AuditEntry } from './audit-entry.ts';
import { auditHash, GENESIS_HASH } from './audit-hash.ts';
import { canonicalJson } from './canonical-json.ts';

const SOURCE = { observer: 'dxhub-test' };
const entry = (i: number): AuditEntry => ({
  action: 'read',
  agent: `user-${i}`,
  patient: 'p1',
  resource: `Observation/o${i}`,
});
const fields = (n: number) => Array.from({ length: n }, (_, i) => auditFields(entry(i), 1_764_374_400_000 + i, SOURCE));

test('entries chain from the genesis hash, each prevHash the hash before', () => {
  const chain = chainEntries({ seq: 0, hash: GENESIS_HASH }, fields(3));
  assert.deepEqual(
    chain.map((r) => r.seq),
    [1, 2, 3],
  );
  assert.equal(chain[0]!.prevHash, GENESIS_HASH);
  assert.equal(chain[1]!.prevHash, chain[0]!.hash);
  assert.equal(chain[2]!.hash, auditHash(chain[1]!.hash, chain[2]!));
  assert.match(chain[2]!.hash, /^[0-9a-f]{64}$/);
});

test('the hash covers every stored field but not seq', () => {
  const [r] = chainEntries({ seq: 0, hash: GENESIS_HASH }, fields(1));
  assert.equal(auditHash(GENESIS_HASH, { ...r!, seq: 99 } as typeof r & object), r!.hash);
  for (const change of [
    { agent: 'x' },
    { at: 1 },
    { patient: null },
    { event: `${r!.event} ` },
    { purpose: 'TREAT' },
  ]) {
    assert.notEqual(auditHash(GENESIS_HASH, { ...r!, ...change }), r!.hash);
  }
});

test('checkLink tells altered, missing and broken links apart', () => {
  const [a, b] = chainEntries({ seq: 0, hash: GENESIS_HASH }, fields(2));
  assert.equal(checkLink(1, GENESIS_HASH, a!), undefined);
  assert.equal(checkLink(2, a!.hash, b!), undefined);
  assert.equal(checkLink(2, a!.hash, { ...b!, agent: 'mallory' }), 'altered');
  assert.equal(checkLink(1, GENESIS_HASH, b!), 'missing');
  assert.equal(checkLink(1, GENESIS_HASH, { ...b!, seq: 1 }), 'broken-link');
});

test('a continuing chain links to the tail it was given', () => {
  const first = chainEntries({ seq: 0, hash: GENESIS_HASH }, fields(2));
  const next = chainEntries({ seq: 2, hash: first[1]!.hash }, fields(1));
  assert.equal(next[0]!.seq, 3);
  assert.equal(next[0]!.prevHash, first[1]!.hash);
});

test('the hashed payload is the canonical JSON of the fields, the event as an object', () => {
  const [f] = fields(1);
  const payload = canonicalJson({ ...f!, event: JSON.parse(f!.event) });
  assert.equal(
    auditHash(GENESIS_HASH, f!),
    createHash('sha256')
      .update(GENESIS_HASH + payload)
      .digest('hex'),
  );
});

test('the stored event text is the canonical JSON of its members, whichever of them are present', () => {
  // Values that JSON escapes (quotes, backslashes, control characters, non-ASCII) and members
  // present or absent in every combination, with and without the endpoint's address.
  const values = ['plain', 'quote " and \\ backslash', 'tab\tnewline\n\u0001', 'æøå — 😀', ''];
  const optional = ['agentName', 'client', 'detail', 'query', 'requestId', 'resource'] as const;
  for (let mask = 0; mask < 2 ** optional.length; mask++) {
    const present = optional.filter((_, i) => mask & (1 << i));
    const e: Record<string, string> = { action: 'read', agent: 'u' };
    for (const [k, name] of present.entries()) e[name] = values[(mask + k) % values.length]!;
    for (const source of [SOURCE, { observer: 'obs "x"', address: 'https://dxhub.example/fhir' }]) {
      const f = auditFields(e as unknown as AuditEntry, 1, source);
      const parsed = JSON.parse(f.event) as Record<string, unknown>;
      assert.equal(f.event, canonicalJson(parsed));
      assert.deepEqual(
        Object.keys(parsed).sort(),
        [...present, 'observer', ...('address' in source ? ['address'] : [])].sort(),
      );
      for (const name of present) assert.equal(parsed[name], e[name]);
    }
  }
});
