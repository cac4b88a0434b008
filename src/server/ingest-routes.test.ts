import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { astmResults } from '../../test/support/astm.ts';
import { CLI } from '../../test/support/cli.ts';
import { ASTM_OBSERVATION_KEY_SYSTEM, DEFAULT_ASTM_SPECIMEN_SYSTEM } from '../ingest/astm-to-fhir.ts';

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

test('ASTM dead letters over the API and the CLI: list, look at, reprocess once the cause is fixed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-astm-inbox-'));
  const db = `sqlite:${join(dir, 'inbox.db')}`;
  const dx = await buildTestApp({ db });
  const records = (sample: string) => astmResults('DL-ANALYZER', sample, [['K', '4.1']], { serial: 'SN7' });
  try {
    // Two Specimens with the sample's barcode in the hub's own system: the result cannot be placed.
    const twins: string[] = [];
    for (const n of [1, 2]) {
      const r = await dx.app.inject({
        method: 'POST',
        url: '/fhir/Specimen',
        headers: { 'content-type': 'application/fhir+json', prefer: 'return=representation' },
        payload: {
          resourceType: 'Specimen',
          identifier: [{ system: DEFAULT_ASTM_SPECIMEN_SYSTEM, value: 'DL-TWIN' }],
          note: [{ text: `twin ${n}` }],
        },
      });
      assert.equal(r.statusCode, 201);
      twins.push(r.json().id);
    }
    await dx.astmInbox.accept(records('DL-TWIN'), 'test');
    await dx.astmInbox.accept(records('DL-OK'), 'test');
    assert.deepEqual(await dx.astmProcessor.runOnce(), { processed: 1, failed: 1, skipped: 0 });

    const list = await dx.app.inject({ method: 'GET', url: '/ops/astm/inbox?state=failed' });
    assert.equal(list.statusCode, 200);
    const failed = list.json() as { id: number; sender: string; reason: string }[];
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.sender, 'DL-ANALYZER');
    assert.match(failed[0]!.reason, /match more than one Specimen/);
    const one = await dx.app.inject({ method: 'GET', url: `/ops/astm/inbox/${failed[0]!.id}` });
    assert.match(one.json().message, /^H\|/);
    assert.match(one.json().message, /DL-TWIN/);
    const clinician = await dx.bearer({ role: 'clinician', org: 'x' });
    const refused = await dx.app.inject({
      method: 'GET',
      url: '/ops/astm/inbox',
      headers: { authorization: clinician },
    });
    assert.equal(refused.statusCode, 403);
    const bad = await dx.app.inject({ method: 'GET', url: '/ops/astm/inbox?state=duplicate' });
    assert.equal(bad.statusCode, 400);
    // Still ambiguous: reprocessing keeps it failed with its reason.
    const again = await dx.app.inject({ method: 'POST', url: `/ops/astm/inbox/${failed[0]!.id}/reprocess` });
    assert.equal(again.json().failed, 1);
    assert.equal(again.json().message.state, 'failed');
    // The duplicate Specimen removed: the dead letter goes through, its result on the one left.
    const del = await dx.app.inject({ method: 'DELETE', url: `/fhir/Specimen/${twins[1]}` });
    assert.equal(del.statusCode < 300, true);
    const fixed = await dx.app.inject({ method: 'POST', url: '/ops/astm/inbox/reprocess?state=failed' });
    assert.deepEqual(fixed.json(), { processed: 1, failed: 0, skipped: 0 });
    const obs = await dx.app.inject({
      method: 'GET',
      url: `/fhir/Observation?identifier=${encodeURIComponent(`${ASTM_OBSERVATION_KEY_SYSTEM}|DL-ANALYZER/DL-TWIN/K`)}`,
    });
    const entry = obs.json().entry as { resource: { specimen: { reference: string } } }[];
    assert.equal(entry.length, 1);
    assert.equal(entry[0]!.resource.specimen.reference, `Specimen/${twins[0]}`);
    const missing = await dx.app.inject({ method: 'POST', url: '/ops/astm/inbox/99999/reprocess' });
    assert.equal(missing.statusCode, 404);
  } finally {
    await dx.close();
  }
  try {
    const env = { ...process.env, DXHUB_DB: db };
    const listed = execFileSync(process.execPath, [CLI, 'inbox', 'list', '--astm', '--state', 'processed'], {
      env,
      encoding: 'utf8',
    });
    assert.equal(listed.trim().split('\n').length, 2);
    assert.match(listed, /DL-ANALYZER\ttest\tprocessed/);
    const out = execFileSync(
      process.execPath,
      [CLI, 'inbox', 'reprocess', '--astm', '--state', 'processed', '--force'],
      { env, encoding: 'utf8' },
    );
    assert.match(out, /processed 2, failed 0/);
    assert.throws(
      () =>
        execFileSync(process.execPath, [CLI, 'inbox', 'list', '--astm', '--state', 'duplicate'], {
          stdio: 'pipe',
          env,
        }),
      /--state must be one of received, processed, failed/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
