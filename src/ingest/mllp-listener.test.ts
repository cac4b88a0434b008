import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { frameMllp, MllpFramer, parseHl7, readMsa } from '../core/hl7/index.ts';
import { type Dialect, openDialect } from '../store/dialect/dialect.ts';
import { migrate } from '../store/migrations/index.ts';
import { CONTROL_ID_REUSED, Hl7Inbox } from './hl7-inbox.ts';
import { MllpListener } from './mllp-listener.ts';

const FIXTURES = new URL('../../test/fixtures/hl7/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'latin1');
const ORU = fixture('oru-r01-ms-01-lab-mixed-types.hl7');
const ADT = fixture('adt-a01-ms-02-admit-short.hl7');
const MALFORMED = fixture('malformed-ti-04-missing-msh9.hl7');
const MAX_BYTES = 64 * 1024;

let seq = 0;
/** The message with MSH-10 (and optionally MSH-7) replaced, so each test sends its own control id. */
function variant(text: string, controlId = `T${process.pid}-${++seq}`, msh7?: string): { bytes: Buffer; id: string } {
  const [msh = '', ...rest] = text.split('\r');
  const fields = msh.split('|');
  // fields[0] is "MSH" and fields[1] MSH-2, so fields[n - 1] is MSH-n.
  fields[9] = controlId;
  if (msh7 !== undefined) fields[6] = msh7;
  return { bytes: Buffer.from([fields.join('|'), ...rest].join('\r'), 'latin1'), id: controlId };
}

/** Writes `writes` one by one on a new connection and collects ACK payloads until `expected` or close. */
function exchange(
  port: number,
  writes: readonly Buffer[],
  expected: number,
  onAck?: (ack: string) => void,
): Promise<{ acks: string[]; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const framer = new MllpFramer();
    const acks: string[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ acks, closedByServer });
    };
    socket.on('connect', async () => {
      for (const w of writes) {
        socket.write(w);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    socket.on('data', (chunk) => {
      for (const e of framer.push(chunk)) {
        if (e.kind !== 'message') continue;
        const ack = e.payload.toString('utf8');
        acks.push(ack);
        onAck?.(ack);
      }
      if (acks.length >= expected) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e) => (done ? undefined : reject(e)));
  });
}

function msa(ack: string) {
  const parsed = parseHl7(ack);
  if (!parsed.ok) assert.fail(parsed.error.message);
  return { msa: readMsa(parsed.value.segment('MSA')!), err: parsed.value.segment('ERR') };
}

for (const dialect of await testDialects()) {
  describe(`HL7 inbox and MLLP listener on ${dialect}`, () => {
    let dir: string;
    let url: string;
    let db: Dialect;
    let observer: Dialect;
    let inbox: Hl7Inbox;
    let listener: MllpListener;
    let port: number;
    const rowsWith = async (controlId: string) =>
      (
        await observer.all<{ n: number | string }>('SELECT COUNT(*) AS n FROM hl7_inbox WHERE control_id = ?', [
          controlId,
        ])
      ).map((r) => Number(r.n))[0];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dxhub-ingest-'));
      url = freshDbUrl(dialect, join(dir, 'inbox.db'));
      db = await openDialect(url);
      await migrate(db);
      // A second, independent connection: sees only what is committed.
      observer = await openDialect(url);
      inbox = new Hl7Inbox(db);
      listener = new MllpListener({ inbox, host: '127.0.0.1', port: 0, maxMessageBytes: MAX_BYTES });
      port = (await listener.listen()).port;
    });

    after(async () => {
      await listener.close();
      await observer.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('ORU^R01 gets AA with MSA-2 = MSH-10, and the row is committed when the ACK arrives', async () => {
      const m = variant(ORU);
      const seen: Promise<number | undefined>[] = [];
      const { acks } = await exchange(port, [frameMllp(m.bytes)], 1, () => seen.push(rowsWith(m.id)));
      assert.equal(acks.length, 1);
      assert.deepEqual(msa(acks[0]!).msa, { code: 'AA', controlId: m.id, text: '' });
      assert.deepEqual(await Promise.all(seen), [1]);
      const rows = await inbox.list('received', 1000);
      const row = rows.find((r) => r.controlId === m.id)!;
      assert.deepEqual(row.raw, m.bytes);
      assert.equal(row.messageType, 'ORU^R01^ORU_R01');
      assert.equal(row.peer, '127.0.0.1');
      assert.equal(row.ack, acks[0]);
    });

    test('two messages in one TCP write get two ACKs in order', async () => {
      const a = variant(ORU);
      const b = variant(ADT);
      const { acks } = await exchange(port, [Buffer.concat([frameMllp(a.bytes), frameMllp(b.bytes)])], 2);
      assert.deepEqual(
        acks.map((x) => msa(x).msa.controlId),
        [a.id, b.id],
      );
    });

    test('one message split across 5 writes (end block split too) gets one AA', async () => {
      const m = variant(ORU);
      const framed = frameMllp(m.bytes);
      const cuts = [0, 1, 200, 900, framed.length - 1, framed.length];
      const writes = cuts.slice(1).map((end, i) => framed.subarray(cuts[i], end));
      assert.equal(writes.length, 5);
      const { acks } = await exchange(port, writes, 1);
      assert.deepEqual(msa(acks[0]!).msa, { code: 'AA', controlId: m.id, text: '' });
    });

    test('an exact resend gets the identical original ACK and no second row', async () => {
      const m = variant(ORU);
      const first = await exchange(port, [frameMllp(m.bytes)], 1);
      const again = await exchange(port, [frameMllp(m.bytes)], 1);
      assert.equal(again.acks[0], first.acks[0]);
      assert.equal(await rowsWith(m.id), 1);
    });

    test('a reused control id with other content is stored as a second, flagged row and ACKed AA', async () => {
      const a = variant(ORU, undefined, '20240101120000+0100');
      const b = variant(ORU, a.id, '20240101120500+0100');
      await exchange(port, [frameMllp(a.bytes)], 1);
      const { acks } = await exchange(port, [frameMllp(b.bytes)], 1);
      assert.deepEqual(msa(acks[0]!).msa, { code: 'AA', controlId: a.id, text: '' });
      assert.equal(await rowsWith(a.id), 2);
      const rows = (await inbox.list('received', 1000)).filter((r) => r.controlId === a.id);
      assert.deepEqual(
        rows.map((r) => r.reason),
        [null, CONTROL_ID_REUSED],
      );
    });

    test('a message without MSH-9 gets AR with ERR, is stored as failed and listed as a dead letter', async () => {
      const { acks } = await exchange(port, [frameMllp(Buffer.from(MALFORMED, 'latin1'))], 1);
      const { msa: a, err } = msa(acks[0]!);
      assert.equal(a.code, 'AR');
      assert.equal(a.controlId, '111111');
      assert.ok(err);
      assert.equal(err.raw(2), 'MSH^1^9');
      assert.equal(err.raw(3), '101^Required field missing^HL70357');
      const dead = await inbox.deadLetters();
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.controlId, '111111');
      assert.match(dead[0]!.reason ?? '', /MSH-9/);
    });

    test('an oversize block gets AR and the connection is closed', async () => {
      const m = variant(ORU);
      const big = Buffer.concat([m.bytes, Buffer.from(`\rNTE|1||${'x'.repeat(MAX_BYTES)}`, 'latin1')]);
      const { acks, closedByServer } = await exchange(port, [frameMllp(big)], 2);
      assert.equal(acks.length, 1);
      assert.equal(msa(acks[0]!).msa.code, 'AR');
      assert.ok(closedByServer);
      assert.equal(await rowsWith(m.id), 0);
    });

    test('reprocess runs the handler once per message unless forced; a throw marks the row failed', async () => {
      const a = await inbox.accept(variant(ORU).bytes, 'test');
      const b = await inbox.accept(variant(ADT).bytes, 'test');
      const calls = new Map<number, number>();
      const handler = async (row: { id: number }) => {
        calls.set(row.id, (calls.get(row.id) ?? 0) + 1);
        if (row.id === b.id && calls.get(row.id) === 1) throw new Error('mapping failed');
      };
      await inbox.reprocess({ state: 'received', limit: 1000 }, handler);
      assert.equal(calls.get(a.id), 1);
      assert.equal(calls.get(b.id), 1);
      assert.equal((await inbox.get(a.id))!.state, 'processed');
      assert.equal((await inbox.get(b.id))!.reason, 'mapping failed');
      assert.ok((await inbox.deadLetters(1000)).some((r) => r.id === b.id));

      assert.deepEqual(await inbox.reprocess(a.id, handler), { processed: 0, failed: 0, skipped: 1 });
      assert.deepEqual(await inbox.reprocess(b.id, handler), { processed: 1, failed: 0, skipped: 0 });
      assert.equal((await inbox.get(b.id))!.state, 'processed');
      assert.equal(calls.get(a.id), 1);
      assert.equal(calls.get(b.id), 2);

      assert.deepEqual(await inbox.reprocess(a.id, handler, { force: true }), { processed: 1, failed: 0, skipped: 0 });
      assert.equal(calls.get(a.id), 2);
      assert.equal((await inbox.get(a.id))!.attempts, 2);
    });

    test('a peer outside the allowlist is refused; an idle connection is closed', async () => {
      const guarded = new MllpListener({ inbox, host: '127.0.0.1', port: 0, allowlist: ['192.0.2.1'] });
      const idle = new MllpListener({ inbox, host: '127.0.0.1', port: 0, idleTimeoutMs: 100 });
      try {
        const m = variant(ORU);
        const refused = await exchange((await guarded.listen()).port, [frameMllp(m.bytes)], 1);
        assert.deepEqual(refused, { acks: [], closedByServer: true });
        assert.equal(await rowsWith(m.id), 0);
        const quiet = await exchange((await idle.listen()).port, [], 1);
        assert.deepEqual(quiet, { acks: [], closedByServer: true });
      } finally {
        await guarded.close();
        await idle.close();
      }
    });
  });
}
