import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { CLI } from '../../test/support/cli.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hl7', name));

test('dead letters over the API and the CLI: list, look at, reprocess; only for interface operators', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-inbox-'));
  const db = `sqlite:${join(dir, 'inbox.db')}`;
  const dx = await buildTestApp({ db });
  try {
    await dx.inbox.accept(fixture('mdm-t02-ms-01-report-text.hl7'), 'test');
    await dx.inbox.accept(fixture('oru-r01-ms-05-nist-lri-cbc.hl7'), 'test');
    assert.deepEqual(await dx.processor.runOnce(), { processed: 1, failed: 1, skipped: 0 });

    const list = await dx.app.inject({ method: 'GET', url: '/ops/hl7/inbox?state=failed' });
    assert.equal(list.statusCode, 200);
    const failed = list.json() as { id: number; messageType: string; reason: string }[];
    assert.equal(failed.length, 1);
    assert.match(failed[0]!.messageType, /^MDM/);
    assert.match(failed[0]!.reason, /HL7 error 20[01]/);
    const one = await dx.app.inject({ method: 'GET', url: `/ops/hl7/inbox/${failed[0]!.id}` });
    assert.match(one.json().message, /^MSH\|/);
    const clinician = await dx.bearer({ role: 'clinician', org: 'x' });
    const refused = await dx.app.inject({
      method: 'GET',
      url: '/ops/hl7/inbox',
      headers: { authorization: clinician },
    });
    assert.equal(refused.statusCode, 403);
    // Reprocessing a message that still does not map keeps it failed, with its reason.
    const again = await dx.app.inject({ method: 'POST', url: `/ops/hl7/inbox/${failed[0]!.id}/reprocess` });
    assert.equal(again.json().failed, 1);
    assert.equal(again.json().message.state, 'failed');
    const missing = await dx.app.inject({ method: 'POST', url: '/ops/hl7/inbox/99999/reprocess' });
    assert.equal(missing.statusCode, 404);
  } finally {
    await dx.close();
  }
  try {
    const env = { ...process.env, DXHUB_DB: db };
    const listed = execFileSync(process.execPath, [CLI, 'inbox', 'list'], { env, encoding: 'utf8' });
    assert.match(listed, /MDM\^T02.*failed.*HL7 error/);
    // The processed ORU, forced again: idempotent, still processed.
    const out = execFileSync(process.execPath, [CLI, 'inbox', 'reprocess', '--state', 'processed', '--force'], {
      env,
      encoding: 'utf8',
    });
    assert.match(out, /processed 1, failed 0/);
    assert.throws(
      () => execFileSync(process.execPath, [CLI, 'inbox', 'list', '--state', 'lost'], { env, stdio: 'pipe' }),
      /--state must be one of received, processed, failed, duplicate/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
