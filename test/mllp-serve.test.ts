import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDialect } from '../src/store/dialect/dialect.ts';
import { cliBearer } from './support/cli.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';

const CLI = join(import.meta.dirname, '..', 'src', 'cli', 'dxhub.ts');
const ORU = readFileSync(join(import.meta.dirname, 'fixtures', 'hl7', 'oru-r01-ms-01-lab-mixed-types.hl7'));

/** Sends one MLLP frame and resolves with the framed answer's payload. */
function send(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = Buffer.alloc(0);
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf(Buffer.from([0x1c, 0x0d]));
      if (got[0] === 0x0b && end > 0) {
        socket.end();
        resolve(got.subarray(1, end).toString('utf8'));
      }
    });
    socket.on('error', reject);
    socket.write(Buffer.concat([Buffer.from([0x0b]), payload, Buffer.from([0x1c, 0x0d])]));
  });
}

for (const dialect of await testDialects()) {
  test(`dxhub serve accepts HL7 v2 over MLLP and commits before it acknowledges (${dialect})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-mllp-'));
    const db = dialect === 'sqlite' ? freshDbUrl('sqlite', join(dir, 'mllp.db')) : freshDbUrl('postgres');
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--port', '0', '--mllp-port', '0', '--astm-port', '0', '--db', db],
      {
        env: { ...process.env, DXHUB_LOG_LEVEL: 'info', DXHUB_KEY_DIR: join(dir, 'keys') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const [mllpPort, http] = await new Promise<[number, string]>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no MLLP listener: ${out}`)), 30_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /"mllp":"[^"]*:(\d+)"/.exec(out);
          const h = /"address":"(http:\/\/[^"]+)"/.exec(out);
          if (m && h) {
            clearTimeout(timer);
            resolve([Number(m[1]), h[1]!]);
          }
        });
      });
      const ack = await send(mllpPort, ORU);
      const controlId = ORU.toString('utf8').split('\r')[0]!.split('|')[9];
      assert.match(ack, /^MSH\|/);
      assert.match(ack, new RegExp(`\\rMSA\\|AA\\|${controlId}`));
      const d = await openDialect(db);
      const rows = await d.all<{ n: number }>('SELECT COUNT(*) AS n FROM hl7_inbox');
      assert.equal(Number(rows[0]!.n), 1);
      await d.close();

      // A result message is mapped to FHIR by the running server and becomes searchable.
      const cbc = readFileSync(join(import.meta.dirname, 'fixtures', 'hl7', 'oru-r01-ms-05-nist-lri-cbc.hl7'));
      assert.match(await send(mllpPort, cbc), /\rMSA\|AA\|/);
      const auth = { authorization: cliBearer(join(dir, 'keys')) };
      let found: { total?: number } = {};
      for (let i = 0; i < 100 && !found.total; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const r = await fetch(`${http}/fhir/Observation?code=http://loinc.org|26453-1&_total=accurate`, {
          headers: auth,
        });
        found = (await r.json()) as { total?: number };
      }
      assert.equal(found.total, 1);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
