import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ASTM_OBSERVATION_KEY_SYSTEM } from '../src/ingest/astm-to-fhir.ts';
import { CLI, cliBearer } from './support/cli.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';

for (const dialect of await testDialects()) {
  test(`serve --demo seeds a region and results keep arriving over MLLP and ASTM (${dialect})`, {
    timeout: 420_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-demo-'));
    const db = dialect === 'sqlite' ? `sqlite:${join(dir, 'demo.db')}` : freshDbUrl('postgres');
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--demo', '--port', '0', '--mllp-port', '0', '--astm-port', '0', '--db', db],
      {
        // Fast catch-up and a modest rate, so that results come within seconds.
        env: {
          ...process.env,
          DXHUB_LOG_LEVEL: 'info',
          DXHUB_KEY_DIR: join(dir, 'keys'),
          DXHUB_DEMO_SPEED_UP: '600',
          DXHUB_DEMO_RATE: '60',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let out = '';
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve --demo did not start: ${out}`)), 120_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const h = /"address":"(http:\/\/[^"]+)"/.exec(out);
          if (h && out.includes('demo simulator running')) {
            clearTimeout(timer);
            resolve(h[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`serve --demo exited with ${code}: ${out}`)));
      });
      process.stdout.write(
        `# serve --demo (${dialect}) serving with a seeded region after ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
      const auth = cliBearer(join(dir, 'keys'));
      const count = async (query: string) => {
        const res = await fetch(`${base}/fhir/${query}${query.includes('?') ? '&' : '?'}_summary=count`, {
          headers: { authorization: auth },
        });
        assert.equal(res.status, 200, query);
        return ((await res.json()) as { total: number }).total;
      };
      assert.ok((await count('Patient')) >= 300, 'the seeded region');
      const since = encodeURIComponent(new Date().toISOString());
      const astmQuery = `Observation?identifier=${encodeURIComponent(`${ASTM_OBSERVATION_KEY_SYSTEM}|`)}&_lastUpdated=gt${since}`;
      const all = `Observation?_lastUpdated=gt${since}`;
      let astm = 0;
      let total = 0;
      for (let i = 0; i < 300 && (astm === 0 || total - astm === 0); i++) {
        await sleep(1000);
        astm = await count(astmQuery);
        total = await count(all);
      }
      assert.ok(astm > 0, 'results from simulated analyzers over ASTM');
      assert.ok(total - astm > 0, 'results from the simulated LIS over MLLP');
      assert.ok((await count('ServiceRequest?status=active')) > 0, 'live orders signed through the requisition API');
      // More results within 30 s: they arrive in bursts (a result is sent when its simulated time
      // comes, after the orders due before it), and a loaded CI machine stretches the gaps.
      let later = total;
      for (let i = 0; i < 30 && later <= total; i++) {
        await sleep(1000);
        later = await count(all);
      }
      assert.ok(later > total, 'results keep arriving');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
