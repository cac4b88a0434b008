import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { CPR_SYSTEM, observation, patient } from '../../test/support/factories.ts';
import { buildAck, frameMllp, MllpFramer, parseHl7 } from '../core/hl7/index.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { DeliveryWorker } from './delivery-worker.ts';

/** An HTTP receiver: answers the queued statuses in turn (then 200) and records what it got. */
async function httpReceiver(statuses: number[]) {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => server.close() };
}

/** An MLLP receiver (the EPJ): answers the queued ACK codes in turn (then AA) and records the messages. */
async function mllpReceiver(codes: ('AA' | 'AE' | 'AR')[]) {
  const got: string[] = [];
  const server = createServer((socket) => {
    const framer = new MllpFramer();
    socket.on('data', (chunk) => {
      for (const e of framer.push(chunk)) {
        if (e.kind !== 'message') continue;
        const text = e.payload.toString('utf8');
        got.push(text);
        const parsed = parseHl7(text);
        assert.ok(parsed.ok, text);
        socket.write(
          frameMllp(buildAck(parsed.value, { code: codes.shift() ?? 'AA', controlId: `ack-${got.length}` })),
        );
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, got, close: () => server.close() };
}

for (const dialect of await testDialects()) {
  describe(`outbound delivery on ${dialect}`, () => {
    it('rest-hook Subscriptions: activated, matched by criteria, retried with backoff, in order', async () => {
      const receiver = await httpReceiver([503]);
      const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
      let now = Date.UTC(2026, 10, 29, 12);
      const worker = new DeliveryWorker({ repo, now: () => now });
      try {
        const put = (r: Resource) => repo.transaction((w) => repo.put(w, r));
        await put({
          resourceType: 'Subscription',
          id: 'hb',
          status: 'requested',
          reason: 'Hæmoglobin results to the ward system',
          criteria: 'Observation?code=http://loinc.org|718-7',
          channel: {
            type: 'rest-hook',
            endpoint: receiver.url,
            payload: 'application/fhir+json',
            header: ['Authorization: Bearer ward-secret'],
          },
        });
        await worker.runOnce();
        assert.equal(JSON.parse((await repo.read('Subscription', 'hb'))!.json!).status, 'active');
        await put({ ...observation({ subject: 'Patient/p1', code: '718-7', value: 8.1 }), id: 'hb-1' });
        await put({ ...observation({ subject: 'Patient/p1', code: '2345-7', value: 5 }), id: 'glucose-1' });
        await put({ ...observation({ subject: 'Patient/p1', code: '718-7', value: 7.9 }), id: 'hb-2' });
        const first = await worker.runOnce();
        assert.equal(first.queued, 2);
        // The receiver was down (503): nothing delivered, the second waits behind the first.
        assert.equal(first.delivered, 0);
        assert.equal(receiver.got.length, 1);
        assert.equal((await worker.runOnce()).delivered, 0, 'retried before the backoff');
        now += 1_000;
        const second = await worker.runOnce();
        assert.equal(second.delivered, 1);
        assert.equal((await worker.runOnce()).delivered, 1);
        const bodies = receiver.got.slice(1).map((g) => JSON.parse(g.body) as Resource);
        assert.deepEqual(
          bodies.map((b) => b.id),
          ['hb-1', 'hb-2'],
        );
        assert.equal(receiver.got[1]!.headers.authorization, 'Bearer ward-secret');
        assert.equal(receiver.got[1]!.headers['content-type'], 'application/fhir+json');
      } finally {
        receiver.close();
        await repo.close();
      }
    });

    it('final DiagnosticReports go to the EPJ as ORU^R01 over MLLP; AE is retried; dead letters can be retried', async () => {
      const epj = await mllpReceiver(['AE']);
      const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
      let now = Date.UTC(2026, 10, 29, 12);
      const worker = new DeliveryWorker({
        repo,
        now: () => now,
        maxAttempts: 3,
        oruReceiver: { host: '127.0.0.1', port: epj.port, application: 'EPJ', facility: 'OUH' },
      });
      try {
        await worker.runOnce();
        await repo.transaction(async (w) => {
          await repo.put(w, { ...patient({ identifier: [{ system: CPR_SYSTEM, value: '0101801234' }] }), id: 'p1' });
          await repo.put(w, { ...observation({ subject: 'Patient/p1', code: '718-7', value: 8.1 }), id: 'o1' });
          await repo.put(w, { ...observation({ subject: 'Patient/p1', code: '2345-7', value: 5.2 }), id: 'o2' });
          await repo.put(w, {
            resourceType: 'DiagnosticReport',
            id: 'dr1',
            status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: '24323-8' }], text: 'Metabolic panel' },
            subject: { reference: 'Patient/p1' },
            issued: '2026-11-29T11:00:00+01:00',
            result: [{ reference: 'Observation/o1' }, { reference: 'Observation/o2' }],
          });
        });
        const r1 = await worker.runOnce();
        assert.deepEqual([r1.queued, r1.delivered, r1.failed], [1, 0, 1]);
        now += 1_000;
        assert.equal((await worker.runOnce()).delivered, 1);
        assert.equal(epj.got.length, 2);
        const oru = parseHl7(epj.got[1]!);
        assert.ok(oru.ok);
        const segments = epj.got[1]!.split('\r').filter(Boolean);
        assert.match(segments[0]!, /^MSH\|\^~\\&\|DXHUB\|DXHUB\|EPJ\|OUH\|\d{12}/);
        assert.match(segments[0]!, /\|ORU\^R01\^ORU_R01\|/);
        assert.match(segments.find((s) => s.startsWith('PID'))!, /0101801234\^\^\^CPR&1\.2\.208\.176\.1\.2&ISO\^NNDNK/);
        const obx = segments.filter((s) => s.startsWith('OBX'));
        assert.equal(obx.length, 2);
        assert.match(obx[0]!, /^OBX\|1\|NM\|718-7\^[^|]*\^LN\|\|8\.1\|/);
        assert.match(segments.find((s) => s.startsWith('OBR'))!, /\|F$/);

        // The EPJ is down: the next report is given up after 3 attempts and can be put back in line.
        epj.close();
        await repo.transaction((w) =>
          repo.put(w, {
            resourceType: 'DiagnosticReport',
            id: 'dr2',
            status: 'final',
            code: { text: 'Hb' },
            subject: { reference: 'Patient/p1' },
            result: [{ reference: 'Observation/o1' }],
          }),
        );
        for (let i = 0; i < 3; i++) {
          await worker.runOnce();
          now += 600_000;
        }
        const dead = await worker.queue.list('failed');
        assert.equal(dead.length, 1);
        assert.match(dead[0]!.lastError ?? '', /ECONNREFUSED|closed|ACK/);
        assert.equal(await worker.queue.retry(dead[0]!.id, now), true);
        assert.equal((await worker.queue.list('pending')).length, 1);
      } finally {
        epj.close();
        await repo.close();
      }
    });
  });
}
