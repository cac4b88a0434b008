import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mapHl7TextToFhir, OBSERVATION_KEY_SYSTEM } from '../src/core/hl7/index.ts';
import { openDialect } from '../src/store/dialect/dialect.ts';
import { cliBearer } from './support/cli.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';
import { MllpTestClient, msaOf, smallOru, startServe } from './support/hl7-mllp.ts';

/**
 * Messages in the stream (DXHUB_TEST_HL7_CRASH_MESSAGES, default 10,000). The run time is bounded by
 * the HL7 processor (each message becomes a transaction Bundle): on a busy 2-CPU machine ~130
 * messages/s on SQLite and ~50/s on PostgreSQL, i.e. about 1.5 and 4 minutes for 10,000.
 */
const TOTAL = Number(process.env.DXHUB_TEST_HL7_CRASH_MESSAGES ?? 10_000);
/** The server is killed once this many messages are acknowledged (mid-stream, mid-processing). */
const KILL_AFTER = Math.floor(TOTAL * 0.3);

/** The identifier of the one Observation message `i` maps to. */
function observationKey(i: number): string {
  const r = mapHl7TextToFhir(smallOru(i));
  if (!r.ok || r.kind !== 'bundle') throw new Error('the test message does not map');
  const entries = (
    r.bundle as { entry: { resource: { resourceType: string; identifier?: { system: string; value: string }[] } }[] }
  ).entry;
  const obs = entries.find((e) => e.resource.resourceType === 'Observation')!;
  return obs.resource.identifier!.find((id) => id.system === OBSERVATION_KEY_SYSTEM)!.value;
}

for (const dialect of await testDialects()) {
  test(`SIGKILL of dxhub serve mid-way through ${TOTAL} MLLP messages loses no acknowledged message and duplicates no Observation (${dialect})`, {
    timeout: 1_500_000,
  }, async (t) => {
    const t0 = performance.now();
    const phase = (what: string) => t.diagnostic(`${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-hl7-crash-'));
    const keys = join(dir, 'keys');
    const db = dialect === 'sqlite' ? freshDbUrl('sqlite', join(dir, 'crash.db')) : freshDbUrl('postgres');
    const acked: boolean[] = new Array(TOTAL).fill(false);
    try {
      // 1. A stop-and-wait sender streams messages; the server is SIGKILLed while it accepts and processes.
      const first = await startServe(db, keys);
      const client = await MllpTestClient.connect(first.mllpPort);
      let next = 0;
      let killed = false;
      for (; next < TOTAL; next++) {
        if (next === KILL_AFTER) {
          // The next message is in flight when the process dies: it may or may not be committed.
          const inFlight = client.send(smallOru(next)).then(
            (ack) => ack,
            () => undefined,
          );
          first.child.kill('SIGKILL');
          killed = true;
          const ack = await inFlight;
          if (ack !== undefined && msaOf(ack).code === 'AA') acked[next++] = true;
          break;
        }
        const ack = await client.send(smallOru(next));
        assert.equal(msaOf(ack).code, 'AA', ack);
        assert.equal(msaOf(ack).controlId, `C${next}`);
        acked[next] = true;
      }
      assert.ok(killed);
      phase(`killed after ${next} acknowledged`);
      await first.stop();
      client.close();

      // Every acknowledged message is in the inbox after the crash (ACK only after commit).
      const d = await openDialect(db);
      const stored = new Set(
        (await d.all<{ control_id: string }>('SELECT control_id FROM hl7_inbox')).map((r) => r.control_id),
      );
      for (let i = 0; i < TOTAL; i++)
        if (acked[i]) assert.ok(stored.has(`C${i}`), `C${i} was acknowledged but not stored`);

      // 2. Restart on the same database; the sender resends from its first unacknowledged message.
      const second = await startServe(db, keys);
      try {
        const again = await MllpTestClient.connect(second.mllpPort);
        for (let i = acked.indexOf(false); i < TOTAL; i++) {
          const ack = await again.send(smallOru(i));
          assert.equal(msaOf(ack).code, 'AA', ack);
          acked[i] = true;
        }
        again.close();
        phase('all sent');

        // 3. Once the processor has drained the inbox: one row per message, one Observation per message.
        for (let waited = 0; ; waited += 200) {
          const q = await d.all<{ n: number | string }>("SELECT COUNT(*) AS n FROM hl7_inbox WHERE state = 'received'");
          if (Number(q[0]!.n) === 0) break;
          assert.ok(waited < 1_400_000, `inbox not drained: ${q[0]!.n} received`);
          await new Promise((r) => setTimeout(r, 200));
        }
        phase('inbox drained');
        const states = await d.all<{ state: string; n: number | string }>(
          'SELECT state, COUNT(*) AS n FROM hl7_inbox GROUP BY state',
        );
        assert.deepEqual(
          states.map((s) => [s.state, Number(s.n)]),
          [['processed', TOTAL]],
        );
        const auth = { authorization: cliBearer(keys) };
        const count = async (query: string) => {
          const r = await fetch(`${second.url}/fhir/Observation?${query}&_summary=count`, { headers: auth });
          assert.equal(r.status, 200);
          return ((await r.json()) as { total: number }).total;
        };
        assert.equal(await count('code=http://loinc.org|1554-5'), TOTAL);
        // Around the kill point and at both ends: exactly one Observation per message identifier.
        for (const i of [0, KILL_AFTER - 2, KILL_AFTER - 1, KILL_AFTER, KILL_AFTER + 1, KILL_AFTER + 2, TOTAL - 1]) {
          assert.equal(
            await count(`identifier=${encodeURIComponent(`${OBSERVATION_KEY_SYSTEM}|${observationKey(i)}`)}`),
            1,
          );
        }
        const dupes = await d.all<{ n: number | string }>(
          `SELECT COUNT(*) AS n FROM (SELECT sending_application, sending_facility, control_id FROM hl7_inbox
             GROUP BY sending_application, sending_facility, control_id HAVING COUNT(*) > 1) x`,
        );
        assert.equal(Number(dupes[0]!.n), 0);
      } finally {
        await second.stop();
        await d.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
