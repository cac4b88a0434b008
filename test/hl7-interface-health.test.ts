import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { InterfaceHealthSnapshot } from '../src/ingest/interface-health.ts';
import { MllpListener } from '../src/ingest/mllp-listener.ts';
import { buildTestApp, type TestApp } from './support/app.ts';
import { astmResults } from './support/astm.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';
import { MllpTestClient, msaOf, smallOru } from './support/hl7-mllp.ts';

/** An ORU whose OBX-5 does not match OBX-2 NM: accepted (AA), then fails in processing (table 0357 code 102). */
function unmappable(i: number): Buffer {
  return Buffer.from(
    smallOru(i, { prefix: 'BAD', app: 'POCT', facility: 'WARD7' })
      .toString('latin1')
      .replace(/\|NM\|(.*?)\|\|5\.\d/, '|NM|$1||not-a-number'),
    'latin1',
  );
}

for (const dialect of await testDialects()) {
  describe(`interface health on ${dialect}`, { timeout: 60_000 }, () => {
    let dx: TestApp;
    let listener: MllpListener;
    let port: number;
    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
      listener = new MllpListener({ inbox: dx.inbox, host: '127.0.0.1', port: 0, observer: dx.interfaces });
      dx.interfaces.register(listener.name);
      port = (await listener.listen()).port;
    });
    after(async () => {
      await listener.close();
      await dx.close();
    });

    test('counts per sender and listener: messages, ACK codes, queue depth, dead letters, processing failures', async () => {
      const lab = await MllpTestClient.connect(port);
      for (let i = 0; i < 3; i++) assert.equal(msaOf(await lab.send(smallOru(i, { prefix: 'IH' }))).code, 'AA');
      lab.close();
      const poct = await MllpTestClient.connect(port);
      assert.equal(msaOf(await poct.send(unmappable(1))).code, 'AA');
      // No MSH-9: rejected on receipt (AR), stored failed without a processing attempt.
      const noType = Buffer.from('MSH|^~\\&|POCT|WARD7|DXHUB|REGION|20250101120000|||BAD2|P|2.5.1\rPID|1\r', 'latin1');
      assert.equal(msaOf(await poct.send(noType)).code, 'AR');
      poct.close();

      // Before processing: everything accepted is queued.
      let res = await dx.app.inject({ method: 'GET', url: '/ops/interfaces' });
      assert.equal(res.statusCode, 200);
      let snap = res.json() as InterfaceHealthSnapshot;
      const lab1 = snap.senders.find((s) => s.sender === 'LAB^HOSP')!;
      assert.equal(lab1.inbox.queueDepth, 3);
      assert.deepEqual(lab1.inbox.peers, ['127.0.0.1']);
      assert.deepEqual(lab1.listeners.mllp, {
        messages: 3,
        acks: { AA: 3, AE: 0, AR: 0 },
        lastMessageAt: lab1.listeners.mllp!.lastMessageAt,
      });
      assert.equal(typeof lab1.listeners.mllp!.lastMessageAt, 'number');
      const ward = snap.senders.find((s) => s.sender === 'POCT^WARD7')!;
      assert.deepEqual(ward.listeners.mllp!.acks, { AA: 1, AE: 0, AR: 1 });
      assert.equal(ward.inbox.deadLetters, 1);
      assert.equal(ward.inbox.processingFailures, 0);
      const l = snap.listeners.find((x) => x.listener === 'mllp')!;
      assert.equal(l.messages, 5);
      assert.equal(l.connectionsTotal, 2);
      assert.deepEqual(l.acks, { AA: 4, AE: 0, AR: 1 });

      // After processing: the lab's messages are done; the unmappable one is a processing failure.
      await dx.processor.runOnce();
      await new Promise((r) => setTimeout(r, 1100)); // the inbox figures are cached for 1 s
      res = await dx.app.inject({ method: 'GET', url: '/ops/interfaces' });
      snap = res.json() as InterfaceHealthSnapshot;
      const lab2 = snap.senders.find((s) => s.sender === 'LAB^HOSP')!;
      assert.deepEqual([lab2.inbox.queueDepth, lab2.inbox.processed, lab2.inbox.deadLetters], [0, 3, 0]);
      const ward2 = snap.senders.find((s) => s.sender === 'POCT^WARD7')!;
      assert.deepEqual([ward2.inbox.deadLetters, ward2.inbox.processingFailures], [2, 1]);
      assert.deepEqual(snap.totals, { queueDepth: 0, deadLetters: 2, processingFailures: 1 });
      assert.equal(snap.listeners.find((x) => x.listener === 'mllp')!.connectionsOpen, 0);

      // The same figures as Prometheus metrics.
      const metrics = await dx.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(metrics.statusCode, 200);
      const text = metrics.body;
      assert.match(text, /dxhub_hl7_messages_total\{listener="mllp",sender="LAB\^HOSP"\} 3/);
      assert.match(text, /dxhub_hl7_acks_total\{listener="mllp",sender="POCT\^WARD7",code="AR"\} 1/);
      assert.match(text, /dxhub_hl7_queue_depth\{sender="LAB\^HOSP"\} 0/);
      assert.match(text, /dxhub_hl7_dead_letters\{sender="POCT\^WARD7"\} 2/);
      assert.match(text, /dxhub_hl7_processing_failures\{sender="POCT\^WARD7"\} 1/);
      assert.match(text, /dxhub_hl7_last_message_timestamp_seconds\{sender="LAB\^HOSP"\} \d+/);
      assert.match(text, /dxhub_mllp_connections_total\{listener="mllp"\} 2/);
    });

    test('ASTM analyzers: queue depth, dead letters and last message per analyzer, in the view and as metrics', async () => {
      const records = (analyzer: string, sample: string) => astmResults(analyzer, sample, [['K', '4.1']]);
      await dx.astmInbox.accept(records('IH-C311', 'IH-S1'), '10.0.0.7');
      await dx.astmInbox.accept(records('IH-C311', 'IH-S2'), '10.0.0.7');
      // Records that do not parse: stored as a dead letter at once.
      await dx.astmInbox.accept(Buffer.from('X|garbage\r', 'latin1'), '10.0.0.8');
      await new Promise((r) => setTimeout(r, 1100)); // the inbox figures are cached for 1 s
      let snap = (await dx.app.inject({ method: 'GET', url: '/ops/interfaces' })).json() as InterfaceHealthSnapshot;
      const c311 = snap.analyzers.find((a) => a.analyzer === 'IH-C311')!;
      assert.deepEqual([c311.inbox.total, c311.inbox.queueDepth, c311.inbox.deadLetters], [2, 2, 0]);
      assert.deepEqual(c311.inbox.peers, ['10.0.0.7']);
      assert.equal(typeof c311.inbox.lastReceivedAt, 'number');
      const unknown = snap.analyzers.find((a) => a.analyzer === '')!;
      assert.equal(unknown.inbox.deadLetters, 1);
      assert.equal(snap.totals.queueDepth, 2);
      await dx.astmProcessor.runOnce();
      await new Promise((r) => setTimeout(r, 1100));
      snap = (await dx.app.inject({ method: 'GET', url: '/ops/interfaces' })).json() as InterfaceHealthSnapshot;
      const after = snap.analyzers.find((a) => a.analyzer === 'IH-C311')!;
      assert.deepEqual([after.inbox.queueDepth, after.inbox.processed], [0, 2]);
      assert.equal(snap.totals.queueDepth, 0);
      const text = (await dx.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(text, /dxhub_astm_inbox_messages\{analyzer="IH-C311"\} 2/);
      assert.match(text, /dxhub_astm_queue_depth\{analyzer="IH-C311"\} 0/);
      assert.match(text, /dxhub_astm_dead_letters\{analyzer=""\} 1/);
      assert.match(text, /dxhub_astm_last_message_timestamp_seconds\{analyzer="IH-C311"\} \d+/);
      assert.match(text, /dxhub_astm_processing_failures\{analyzer="IH-C311"\} 0/);
    });

    test('an inbox row id that is no number is not found (404), on either inbox', async () => {
      for (const path of ['/ops/hl7/inbox/abc', '/ops/astm/inbox/abc', '/ops/astm/inbox/1.5']) {
        const res = await dx.app.inject({ method: 'GET', url: path });
        assert.equal(res.statusCode, 404, path);
      }
    });

    test('framing errors and dropped noisy connections are counted per listener', async () => {
      await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          // Bytes outside a block, twenty times (a run per write): the connection is dropped at 16.
          const write = (n: number) => {
            if (n === 0 || s.destroyed) return;
            s.write('noise\x0b\x1c\r', () => setTimeout(() => write(n - 1), 2));
          };
          write(20);
        });
        s.on('error', () => undefined);
        // Read the ACKs (AR) so that the server's end of the connection is seen.
        s.resume();
        s.on('close', () => resolve());
      });
      const snap = (await dx.app.inject({ method: 'GET', url: '/ops/interfaces' })).json() as InterfaceHealthSnapshot;
      const l = snap.listeners.find((x) => x.listener === 'mllp')!;
      assert.ok((l.framingErrors['unexpected-bytes'] ?? 0) >= 1);
      assert.equal(l.rejected.garbage, 1);
    });

    test('only integration and admin roles see /ops/interfaces', async () => {
      const clinician = await dx.bearer({ role: 'clinician' });
      const res = await dx.app.inject({ method: 'GET', url: '/ops/interfaces', headers: { authorization: clinician } });
      assert.equal(res.statusCode, 403);
      const admin = await dx.bearer({ role: 'admin' });
      const ok = await dx.app.inject({ method: 'GET', url: '/ops/interfaces', headers: { authorization: admin } });
      assert.equal(ok.statusCode, 200);
    });
  });
}
