import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AstmReceiver, parseAstmMessages } from '../src/core/astm/index.ts';
import { MllpFramer, parseHl7 } from '../src/core/hl7/index.ts';
import { Hl7Inbox } from '../src/ingest/hl7-inbox.ts';
import { InterfaceHealth } from '../src/ingest/interface-health.ts';
import { MllpListener } from '../src/ingest/mllp-listener.ts';
import { type Dialect, openDialect } from '../src/store/dialect/dialect.ts';
import { migrate } from '../src/store/migrations/index.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';
import { MllpTestClient, msaOf, smallOru } from './support/hl7-mllp.ts';
import { prng } from './support/prng.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const hl7Samples = readdirSync(join(FIXTURES, 'hl7'))
  .filter((f) => f.endsWith('.hl7'))
  .map((f) => readFileSync(join(FIXTURES, 'hl7', f)));
const astmSamples = readdirSync(join(FIXTURES, 'astm'))
  .filter((f) => f.endsWith('.txt'))
  .map((f) => readFileSync(join(FIXTURES, 'astm', f)));
/** Bytes that matter to the parsers: delimiters, segment and frame control characters. */
const SPECIAL = Buffer.from('|^~\\&\r\n\x0b\x1c\x02\x03\x04\x05\x06\x15\x17MSHOBXPIDHLRO0123456789', 'latin1');

/** A mutation of `sample`: bytes flipped, deleted, duplicated, cut, or special bytes inserted. */
function mutate(sample: Buffer, random: () => number): Buffer {
  let b = Buffer.from(sample);
  const edits = 1 + Math.floor(random() * 8);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (b.length + 1));
    switch (Math.floor(random() * 6)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)] = Math.floor(random() * 256);
        break;
      case 1:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(random() * 20))]);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.max(0, at - 40), at), b.subarray(at)]);
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      case 4:
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from([SPECIAL[Math.floor(random() * SPECIAL.length)]!]),
          b.subarray(at),
        ]);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at).subarray(0, 200), b.subarray(at)]);
    }
  }
  return b;
}

function noise(random: () => number, n: number, alphabet?: Buffer): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    b[i] = alphabet ? alphabet[Math.floor(random() * alphabet.length)]! : Math.floor(random() * 256);
  }
  return b;
}

describe('parser fuzzing (seeded)', { timeout: 60_000 }, () => {
  test('parseHl7 returns a result for 5,000 mutated and random inputs; it never throws', () => {
    const random = prng(0x5eed_0001);
    for (let i = 0; i < 5000; i++) {
      const input =
        i % 5 === 4
          ? noise(random, Math.floor(random() * 2000), i % 2 ? SPECIAL : undefined)
          : mutate(hl7Samples[i % hl7Samples.length]!, random);
      const r = parseHl7(input);
      assert.equal(typeof r.ok, 'boolean');
      // The failure path is what the inbox stores and ACKs AR: it must describe itself.
      if (!r.ok) assert.equal(typeof r.error.message, 'string');
    }
  });

  test('one MiB of noise and a 100,000-segment message parse without throwing', () => {
    const random = prng(0x5eed_0002);
    assert.equal(typeof parseHl7(noise(random, 1 << 20)).ok, 'boolean');
    const many = Buffer.concat([hl7Samples[0]!, Buffer.from('NTE|1||x\r'.repeat(100_000))]);
    assert.equal(typeof parseHl7(many).ok, 'boolean');
  });

  test('the ASTM record parser and the E1381 receiver take 5,000 mutated and random inputs without throwing', () => {
    const random = prng(0x5eed_0003);
    for (let i = 0; i < 5000; i++) {
      const input =
        i % 5 === 4
          ? noise(random, Math.floor(random() * 2000), i % 2 ? SPECIAL : undefined)
          : mutate(astmSamples[i % astmSamples.length]!, random);
      assert.equal(typeof parseAstmMessages(input).ok, 'boolean');
    }
    const receiver = new AstmReceiver({ maxMessageBytes: 64 * 1024 });
    for (let i = 0; i < 2000; i++) {
      const out = receiver.receive(noise(random, 1 + Math.floor(random() * 512), i % 2 ? SPECIAL : undefined));
      assert.ok(Buffer.isBuffer(out.send));
      if (i % 100 === 99) receiver.timeout();
    }
  });

  test('the MLLP framer holds at most one block however the noise is split', () => {
    const random = prng(0x5eed_0004);
    const framer = new MllpFramer({ maxMessageBytes: 64 * 1024 });
    let maxBuffered = 0;
    for (let i = 0; i < 2000; i++) {
      framer.push(noise(random, 1 + Math.floor(random() * 4096), i % 2 ? SPECIAL : undefined));
      maxBuffered = Math.max(maxBuffered, framer.buffered);
    }
    assert.ok(maxBuffered <= 64 * 1024, `framer buffered ${maxBuffered} bytes`);
  });
});

for (const dialect of await testDialects()) {
  describe(`a live MllpListener under noise (${dialect})`, { timeout: 120_000 }, () => {
    let db: Dialect;
    let listener: MllpListener;
    let port: number;
    let health: InterfaceHealth;
    before(async () => {
      db = await openDialect(freshDbUrl(dialect));
      await migrate(db);
      health = new InterfaceHealth(db);
      listener = new MllpListener({ inbox: new Hl7Inbox(db), host: '127.0.0.1', port: 0, observer: health });
      port = (await listener.listen()).port;
    });
    after(async () => {
      await listener.close();
      await db.close();
    });

    /** Writes `bytes` in 64 KiB writes; resolves when the server closed the connection or `bytes` went out and it answered. */
    function blast(bytes: Buffer): Promise<{ closed: boolean; answers: string[] }> {
      return new Promise((resolve) => {
        const s = connect({ host: '127.0.0.1', port });
        const framer = new MllpFramer();
        const answers: string[] = [];
        let closed = false;
        s.on('data', (d) => {
          for (const e of framer.push(d)) if (e.kind === 'message') answers.push(e.payload.toString('latin1'));
        });
        s.on('error', () => undefined);
        s.on('close', () => {
          closed = true;
          resolve({ closed, answers });
        });
        s.on('connect', async () => {
          for (let at = 0; at < bytes.length && !s.destroyed; at += 65_536) {
            if (!s.write(bytes.subarray(at, at + 65_536))) await new Promise((r) => s.once('drain', r));
          }
          // Everything sent: the server must close or answer; give it the connection's end.
          s.end();
        });
      });
    }

    test('10 MB of noise: the connection is dropped (or NAKed), few rows are stored, and the next good message gets AA', async () => {
      const random = prng(0x5eed_0005);
      const before = process.memoryUsage().rss;
      const { closed, answers } = await blast(noise(random, 10 * 1024 * 1024));
      assert.ok(closed);
      for (const a of answers) assert.notEqual(msaOf(a).code, 'AA');
      // Noise does not turn into thousands of dead letters: the connection is dropped after 16 errors in a row.
      const rows = await db.all<{ n: number | string }>('SELECT COUNT(*) AS n FROM hl7_inbox');
      assert.ok(Number(rows[0]!.n) <= 16, `${rows[0]!.n} rows from noise`);
      assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'memory grew by more than 200 MB');
      const l = (await health.snapshot()).listeners[0]!;
      assert.equal(l.rejected.garbage, 1);

      const client = await MllpTestClient.connect(port);
      const ack = await client.send(smallOru(1, { prefix: 'FUZZ' }));
      client.close();
      assert.equal(msaOf(ack).code, 'AA');
    });

    test('framed noise (valid MLLP blocks of garbage) is answered AR, then the connection is dropped', async () => {
      const random = prng(0x5eed_0006);
      const blocks = Array.from({ length: 200 }, () =>
        Buffer.concat([
          Buffer.from([0x0b]),
          noise(random, 50 + Math.floor(random() * 500), SPECIAL.subarray(0, 10)).map((x) =>
            x === 0x0b || x === 0x1c ? 0x20 : x,
          ),
          Buffer.from([0x1c, 0x0d]),
        ]),
      );
      const { closed, answers } = await blast(Buffer.concat(blocks));
      assert.ok(closed);
      assert.ok(answers.length >= 1 && answers.length <= 16, `${answers.length} answers`);
      for (const a of answers) assert.equal(msaOf(a).code, 'AR');
      const client = await MllpTestClient.connect(port);
      assert.equal(msaOf(await client.send(smallOru(2, { prefix: 'FUZZ' }))).code, 'AA');
      client.close();
    });

    test('mutated real messages, each on its own connection, never crash the listener', async () => {
      const random = prng(0x5eed_0007);
      for (let i = 0; i < 60; i++) {
        const bytes = mutate(hl7Samples[i % hl7Samples.length]!, random).map((x) =>
          x === 0x0b || x === 0x1c ? 0x20 : x,
        );
        const client = await MllpTestClient.connect(port);
        const ack = await client.send(Buffer.from(bytes));
        client.close();
        assert.match(msaOf(ack).code, /^A[AER]$/);
      }
      const client = await MllpTestClient.connect(port);
      assert.equal(msaOf(await client.send(smallOru(3, { prefix: 'FUZZ' }))).code, 'AA');
      client.close();
    });
  });
}
