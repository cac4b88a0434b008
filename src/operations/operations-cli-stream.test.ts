import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { CLI } from '../../test/support/cli.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';

const order = (id: string) => ({
  resourceType: 'ServiceRequest',
  id,
  status: 'active',
  intent: 'order',
  priority: 'routine',
  code: { coding: [{ system: 'http://npu-terminology.org', code: 'NPU03230' }] },
  subject: { reference: 'Patient/p1' },
  authoredOn: '2026-11-28T08:00:00Z',
});

test('dxhub ops rebuild recomputes the indicators from the outbox, with progress', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-ops-'));
  try {
    const url = freshDbUrl('sqlite', join(dir, 'ops.db'));
    const repo = await FhirRepository.open(await openDialect(url));
    for (let i = 0; i < 3; i++) await repo.transaction((w) => repo.put(w, order(`o${i}`)));
    await repo.close();
    const run = spawnSync(process.execPath, [CLI, 'ops', 'rebuild', '--db', url], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /\[#+\] 100\.0% 3\/3 events/);
    assert.match(run.stderr, /rebuilt management information from 3 outbox events/);
    const again = await FhirRepository.open(await openDialect(url));
    const rows = await again.db.all<{ n: number }>(
      "SELECT n FROM ops_bucket WHERE grain = 'd' AND dim = 'all' AND measure = 'orders'",
    );
    assert.deepEqual(
      rows.map((r) => Number(r.n)),
      [3],
    );
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const dialect of await testDialects()) {
  test(`${dialect}: /mi/stream sends server-sent events as indicators change`, async () => {
    const dx = await buildTestApp({ db: freshDbUrl(dialect) });
    const ac = new AbortController();
    try {
      const address = await dx.app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${address}/mi/stream`, {
        headers: { authorization: await dx.bearer({ role: 'department-manager', org: 'test-org' }) },
        signal: ac.signal,
      });
      assert.equal(res.status, 200);
      assert.match(String(res.headers.get('content-type')), /text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      const until = async (re: RegExp) => {
        while (!re.test(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended: ${text}`);
          text += new TextDecoder().decode(value);
        }
      };
      await until(/event: hello/);
      await dx.repo.transaction((w) => dx.repo.put(w, order('s1')));
      await dx.operations.runOnce();
      await until(/event: indicators\ndata: .*"events":1/);
      assert.match(text, /"lagSeconds":/);
    } finally {
      ac.abort();
      await dx.close();
    }
  });
}
