import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { testDialects } from '../../test/support/dialects.ts';
import { readEntry, sharedDbUrl, tamper } from '../audit/audit.fixture.ts';
import { AuditLog } from '../audit/index.ts';
import { openDialect } from '../store/dialect/dialect.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, 'dxhub.ts');

async function verify(url: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'audit', 'verify', '--db', url]);
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: err.stdout };
  }
}

for (const dialect of await testDialects()) {
  test(`dxhub audit verify reports an intact trail and finds an altered entry (${dialect})`, async () => {
    const { url, cleanup } = sharedDbUrl(dialect);
    try {
      const db = await openDialect(url);
      const log = await AuditLog.open(db);
      await log.append([readEntry(1), readEntry(2), readEntry(3)]);
      const ok = await verify(url);
      assert.equal(ok.code, 0);
      assert.match(ok.out, /audit trail intact: 3 entries/);
      await tamper(db, ["UPDATE audit_log SET agent = 'someone-else' WHERE seq = 2"]);
      const broken = await verify(url);
      assert.equal(broken.code, 1);
      assert.match(broken.out, /BROKEN at entry 2: altered/);
      await db.close();
    } finally {
      cleanup();
    }
  });
}
