import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openDialect } from '../src/store/dialect/dialect.ts';
import { FhirRepository } from '../src/store/repository.ts';
import { CLI, cliBearer } from './support/cli.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';
import { observation } from './support/factories.ts';

const KEYS = mkdtempSync(join(tmpdir(), 'dxhub-crash-keys-'));
const AUTH = cliBearer(KEYS);

/** Starts `dxhub serve` on a free port and resolves with its base URL once it listens. */
function startServer(db: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--mllp-port', '0', '--astm-port', '0', '--db', db],
      {
        env: { ...process.env, DXHUB_LOG_LEVEL: 'info', DXHUB_KEY_DIR: KEYS, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

function bundle(n: number, subject: string) {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: n }, (_, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: observation({ subject, value: i }),
      request: { method: 'POST', url: 'Observation' },
    })),
  };
}

for (const dialect of await testDialects()) {
  describe(`graceful shutdown on ${dialect}`, () => {
    test('SIGTERM finishes the request in flight, commits it, then exits 0', async () => {
      const db =
        dialect === 'sqlite'
          ? `sqlite:${join(mkdtempSync(join(tmpdir(), 'dxhub-term-')), 'term.db')}`
          : freshDbUrl('postgres');
      const srv = await startServer(db, { DXHUB_TEST_PAUSE_BEFORE_COMMIT_MS: '1000' });
      const exited = new Promise<number | null>((resolve) => srv.child.once('exit', resolve));
      const pending = fetch(`${srv.url}/fhir`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', authorization: AUTH },
        body: JSON.stringify(bundle(5, 'Patient/term-1')),
      });
      await new Promise((r) => setTimeout(r, 300));
      srv.child.kill('SIGTERM');
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(await exited, 0);
      const repo = await FhirRepository.open(await openDialect(db));
      const n = await repo.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM resource WHERE type = 'Observation'");
      assert.equal(Number(n[0]!.n), 5);
      await repo.close();
    });
  });

  describe(`crash safety on ${dialect}`, () => {
    test('SIGKILL during a transaction Bundle leaves nothing half-written; a later one commits whole', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dxhub-crash-'));
      const db = dialect === 'sqlite' ? `sqlite:${join(dir, 'crash.db')}` : freshDbUrl('postgres');
      try {
        // 1. A server that pauses inside every transaction, after all rows are written.
        const slow = await startServer(db, { DXHUB_TEST_PAUSE_BEFORE_COMMIT_MS: '5000' });
        const pending = fetch(`${slow.url}/fhir`, {
          method: 'POST',
          headers: { 'content-type': 'application/fhir+json', authorization: AUTH },
          body: JSON.stringify(bundle(50, 'Patient/crash-1')),
        }).catch((e: Error) => e);
        // Wait until the rows are written and the transaction is paused before commit.
        await new Promise((r) => setTimeout(r, 1500));
        slow.child.kill('SIGKILL');
        const res = await pending;
        assert.ok(res instanceof Error, 'the request must not have been answered');

        // 2. Nothing of the killed transaction is visible after a restart.
        const repo = await FhirRepository.open(await openDialect(db));
        const count = await repo.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM resource WHERE type = 'Observation'");
        assert.equal(Number(count[0]!.n), 0);
        const events = await repo.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM outbox');
        assert.equal(Number(events[0]!.n), 0);
        await repo.close();

        // 3. A normal server on the same database commits a whole Bundle.
        const ok = await startServer(db);
        const r = await fetch(`${ok.url}/fhir`, {
          method: 'POST',
          headers: { 'content-type': 'application/fhir+json', authorization: AUTH },
          body: JSON.stringify(bundle(50, 'Patient/crash-2')),
        });
        assert.equal(r.status, 200);
        const s = await fetch(`${ok.url}/fhir/Observation?subject=Patient/crash-2&_summary=count`, {
          headers: { authorization: AUTH },
        });
        assert.equal(((await s.json()) as { total: number }).total, 50);
        ok.child.kill('SIGTERM');
        await new Promise((resolve) => ok.child.once('exit', resolve));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
