import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Client, { HL7_2_5, type Message } from 'node-hl7-client';
import { cliBearer } from './support/cli.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';
import { makeTestPki, startServe } from './support/hl7-mllp.ts';

/**
 * An ORU^R01 built by node-hl7-client's own builder (not by dxhub code): one glucose OBX on order
 * `n`, version 2.5 as the client requires.
 */
function oru(n: number, prefix: string): Message {
  return new HL7_2_5()
    .buildMSH({
      msh_3: 'EXTLAB',
      msh_4: 'EXTHOSP',
      msh_5: 'DXHUB',
      msh_6: 'REGION',
      msh_9_1: 'ORU',
      msh_9_2: 'R01',
      msh_10: `${prefix}${n}`,
      msh_11_1: 'P',
    })
    .buildPID({ pid_3: `X${n}^^^EXTHOSP^MR`, pid_5: 'Hansen^Ida', pid_7: '19700101', pid_8: 'F' })
    .buildOBR({
      obr_1: '1',
      obr_2: `PL${prefix}${n}^EXTHOSP`,
      obr_3: `FL${prefix}${n}^EXTLAB`,
      obr_4: '2345-7^Glucose^LN',
      obr_7: '20250101110000',
      obr_25: 'F',
    })
    .buildOBX({
      obx_1: '1',
      obx_2: 'NM',
      obx_3: '2345-7^Glucose^LN',
      obx_5: `5.${n}`,
      obx_6: 'mmol/L',
      obx_11: 'F',
    })
    .toMessage();
}

/**
 * Sends `count` messages over one node-hl7-client connection, each after the previous one's ACK
 * arrived (stop-and-wait, as lab systems send), and resolves with the MSA-1 of each ACK.
 */
async function sendAll(client: Client, port: number, prefix: string, count: number): Promise<string[]> {
  const codes: string[] = [];
  let acked: () => void = () => undefined;
  const connection = client.createConnection(
    { port, version: '2.5', waitAck: true, maxConnectionAttempts: 3 },
    async (res) => {
      codes.push(res.getMessage().get('MSA.1').toString());
      acked();
    },
  );
  for (let n = 0; n < count; n++) {
    const ack = new Promise<void>((resolve) => {
      acked = resolve;
    });
    await connection.sendMessage(oru(n, prefix));
    await ack;
  }
  await connection.close();
  return codes;
}

for (const dialect of await testDialects()) {
  test(`node-hl7-client (npm, an independent sender) gets AA from dxhub serve, plain and over mutual TLS (${dialect})`, {
    timeout: 120_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-hl7-client-'));
    const keys = join(dir, 'keys');
    try {
      const plain = await startServe(
        dialect === 'sqlite' ? freshDbUrl('sqlite', join(dir, 'a.db')) : freshDbUrl('postgres'),
        keys,
      );
      try {
        const codes = await sendAll(new Client({ host: '127.0.0.1', version: '2.5' }), plain.mllpPort, 'NHC', 5);
        assert.deepEqual(codes, ['AA', 'AA', 'AA', 'AA', 'AA']);
        // ...and the results become searchable FHIR Observations.
        const auth = { authorization: cliBearer(keys) };
        let total = 0;
        for (let i = 0; i < 100 && total < 5; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const r = await fetch(`${plain.url}/fhir/Observation?code=http://loinc.org|2345-7&_summary=count`, {
            headers: auth,
          });
          total = ((await r.json()) as { total: number }).total;
        }
        assert.equal(total, 5);
      } finally {
        await plain.stop();
      }

      // The same client over mutual TLS, configured as an operator would (DXHUB_MLLP_TLS_*).
      const pki = makeTestPki(dir);
      const secure = await startServe(
        dialect === 'sqlite' ? freshDbUrl('sqlite', join(dir, 'b.db')) : freshDbUrl('postgres'),
        keys,
        { DXHUB_MLLP_TLS_CERT: pki.serverCert, DXHUB_MLLP_TLS_KEY: pki.serverKey, DXHUB_MLLP_TLS_CA: pki.caCert },
      );
      try {
        const tls = {
          ca: readFileSync(pki.caCert),
          cert: readFileSync(pki.clientCert),
          key: readFileSync(pki.clientKey),
          rejectUnauthorized: true,
          servername: 'localhost',
        };
        const codes = await sendAll(new Client({ host: '127.0.0.1', version: '2.5', tls }), secure.mllpPort, 'NHT', 3);
        assert.deepEqual(codes, ['AA', 'AA', 'AA']);
      } finally {
        await secure.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
