import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hl7Inbox } from '../src/ingest/hl7-inbox.ts';
import { InterfaceHealth } from '../src/ingest/interface-health.ts';
import { MllpListener, readMllpTls } from '../src/ingest/mllp-listener.ts';
import { type Dialect, openDialect } from '../src/store/dialect/dialect.ts';
import { migrate } from '../src/store/migrations/index.ts';
import { freshDbUrl } from './support/dialects.ts';
import { MllpTestClient, makeTestPki, msaOf, smallOru, type TestPki } from './support/hl7-mllp.ts';

// TLS is transport only (the inbox behind it is the same on both dialects): one in-memory SQLite inbox.
describe('MLLP over TLS (real sockets, openssl-made certificates)', { timeout: 60_000 }, () => {
  let dir: string;
  let pki: TestPki;
  let db: Dialect;
  let health: InterfaceHealth;
  const listeners: MllpListener[] = [];
  const pem = (file: string) => readFileSync(file);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dxhub-mllp-tls-'));
    pki = makeTestPki(dir);
    db = await openDialect(freshDbUrl('sqlite'));
    await migrate(db);
    health = new InterfaceHealth(db);
  });
  after(async () => {
    for (const l of listeners) await l.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(ca: boolean): Promise<{ port: number; listener: MllpListener }> {
    const tls = readMllpTls({
      mllpTlsCert: pki.serverCert,
      mllpTlsKey: pki.serverKey,
      ...(ca ? { mllpTlsCa: pki.caCert } : {}),
    })!;
    const listener = new MllpListener({
      inbox: new Hl7Inbox(db),
      host: '127.0.0.1',
      port: 0,
      tls,
      observer: health,
      name: ca ? 'mllps-mutual' : 'mllps',
    });
    listeners.push(listener);
    return { port: (await listener.listen()).port, listener };
  }

  /** Resolves with how the attempt ended: an ACK code, or 'refused' when the handshake or connection failed. */
  async function attempt(port: number, tls: Parameters<typeof MllpTestClient.connect>[1], n: number): Promise<string> {
    try {
      const client = await MllpTestClient.connect(port, tls);
      try {
        return msaOf(await client.send(smallOru(n, { prefix: 'TLS' }))).code;
      } finally {
        client.close();
      }
    } catch {
      return 'refused';
    }
  }

  test('server-authenticated TLS: a client that trusts the CA gets AA; an untrusting or plain-TCP client gets nothing', async () => {
    const { port } = await start(false);
    assert.equal(await attempt(port, { ca: pem(pki.caCert) }, 1), 'AA');
    // The client checks the server certificate: without the CA, the handshake fails on its side.
    assert.equal(await attempt(port, { ca: pem(pki.clientCert) }, 2), 'refused');
    // Plain MLLP on the TLS port: the server sees a failed handshake and answers no HL7.
    const plain = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => s.write('\x0bMSH|^~\\&|X|Y\r\x1c\r'));
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
    });
    assert.doesNotMatch(plain, /MSA\|/);
    const l = (await health.snapshot()).listeners.find((x) => x.listener === 'mllps')!;
    assert.ok(l.rejected['tls-handshake'] >= 1);
    assert.equal(l.acks.AA, 1);
  });

  test('mutual TLS: only a client certificate from DXHUB_MLLP_TLS_CA is let in', async () => {
    const { port } = await start(true);
    const trust = { ca: pem(pki.caCert) };
    assert.equal(await attempt(port, { ...trust, cert: pem(pki.clientCert), key: pem(pki.clientKey) }, 3), 'AA');
    assert.equal(await attempt(port, trust, 4), 'refused');
    assert.equal(await attempt(port, { ...trust, cert: pem(pki.rogueCert), key: pem(pki.rogueKey) }, 5), 'refused');
    const rows = await db.all<{ control_id: string }>(
      "SELECT control_id FROM hl7_inbox WHERE control_id IN ('TLS4', 'TLS5')",
    );
    assert.deepEqual(rows, []);
    const l = (await health.snapshot()).listeners.find((x) => x.listener === 'mllps-mutual')!;
    assert.equal(l.connectionsTotal, 1);
    assert.equal(l.rejected['tls-handshake'], 2);
  });

  test('configuration mistakes fail at start-up and name the variable', () => {
    assert.equal(readMllpTls({}), undefined);
    assert.throws(() => readMllpTls({ mllpTlsCert: pki.serverCert }), /DXHUB_MLLP_TLS_KEY/);
    assert.throws(() => readMllpTls({ mllpTlsKey: pki.serverKey }), /DXHUB_MLLP_TLS_CERT/);
    assert.throws(() => readMllpTls({ mllpTlsCa: pki.caCert }), /DXHUB_MLLP_TLS_CA is set/);
    assert.throws(
      () => readMllpTls({ mllpTlsCert: join(dir, 'missing.crt'), mllpTlsKey: pki.serverKey }),
      /DXHUB_MLLP_TLS_CERT '.*missing\.crt' cannot be read/,
    );
    // A certificate with another's key.
    assert.throws(
      () => readMllpTls({ mllpTlsCert: pki.serverCert, mllpTlsKey: pki.clientKey }),
      /do not form a TLS context/,
    );
  });
});
