import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { prng } from '../../../test/support/prng.ts';
import { frameMllp, MLLP_COMMIT_ACK, type MllpEvent, MllpFramer, mllpCommitKind } from './mllp-framer.ts';

const A = 'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5.1\rOBX|1|ST|X||é\r';
const B = 'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|2|P|2.5.1\r';

function messages(events: MllpEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'message' ? [e.payload.toString('utf8')] : []));
}

function feed(framer: MllpFramer, chunks: Buffer[]): MllpEvent[] {
  return chunks.flatMap((c) => framer.push(c));
}

test('frame() encodes <SB> payload <EB> <CR>', () => {
  assert.deepEqual([...frameMllp('AB')], [0x0b, 0x41, 0x42, 0x1c, 0x0d]);
  assert.equal(mllpCommitKind(MLLP_COMMIT_ACK.subarray(1, 2)), 'ack');
  assert.equal(mllpCommitKind(Buffer.from('MSH')), undefined);
});

test('several frames in one read, and one frame byte by byte', () => {
  const stream = Buffer.concat([frameMllp(A), frameMllp(B)]);
  assert.deepEqual(messages(new MllpFramer().push(stream)), [A, B]);
  const framer = new MllpFramer();
  const events = [...stream].flatMap((b) => framer.push(Buffer.of(b)));
  assert.deepEqual(messages(events), [A, B]);
  assert.equal(framer.buffered, 0);
});

test('<EB> and <CR> split across reads; a missing <CR> is tolerated', () => {
  const f = frameMllp(A);
  const framer = new MllpFramer();
  assert.deepEqual(framer.push(f.subarray(0, f.length - 1)).length, 1);
  assert.deepEqual(
    framer.push(Buffer.concat([f.subarray(f.length - 1), frameMllp(B)])).map((e) => e.kind),
    ['message'],
  );
  const noCr = Buffer.concat([
    Buffer.of(0x0b),
    Buffer.from(B),
    Buffer.of(0x1c, 0x0b),
    Buffer.from(A),
    Buffer.of(0x1c, 0x0d),
  ]);
  assert.deepEqual(messages(new MllpFramer().push(noCr)), [B, A]);
});

test('garbage before <SB> is skipped and reported; CR/LF between frames is not', () => {
  const events = new MllpFramer().push(
    Buffer.concat([Buffer.from('junk'), frameMllp(A), Buffer.from('\r\n'), frameMllp(B)]),
  );
  assert.deepEqual(
    events.map((e) => (e.kind === 'error' ? `${e.code}:${e.bytes}` : 'message')),
    ['unexpected-bytes:4', 'message', 'message'],
  );
});

test('oversize frames are dropped without buffering, and the stream recovers', () => {
  const framer = new MllpFramer({ maxMessageBytes: 64 });
  const big = frameMllp('X'.repeat(10_000));
  const events: MllpEvent[] = [];
  for (let i = 0; i < big.length; i += 100) {
    events.push(...framer.push(big.subarray(i, i + 100)));
    assert.ok(framer.buffered <= 64);
  }
  events.push(...framer.push(frameMllp(B.slice(0, 40))));
  assert.deepEqual(
    events.map((e) => (e.kind === 'error' ? e.code : 'message')),
    ['oversize', 'message'],
  );
});

test('a new <SB> before <EB>, or end of stream, reports an unterminated frame', () => {
  const framer = new MllpFramer();
  const events = framer.push(Buffer.concat([Buffer.of(0x0b), Buffer.from('MSH|partial'), frameMllp(A)]));
  assert.deepEqual(
    events.map((e) => (e.kind === 'error' ? e.code : 'message')),
    ['unterminated-frame', 'message'],
  );
  framer.push(Buffer.from('\x0bMSH|half'));
  assert.deepEqual(
    framer.end().map((e) => e.kind === 'error' && e.code),
    ['unterminated-frame'],
  );
});

test('property: any split of a byte stream into chunks yields the same messages', () => {
  const payloads = Array.from({ length: 12 }, (_, i) => `${B.replace('|2|', `|${i}|`)}NTE|1||${'ø'.repeat(i * 7)}\r`);
  const stream = Buffer.concat([Buffer.from('\r\n'), ...payloads.map((p) => frameMllp(p))]);
  const rnd = prng(20240301);
  for (let run = 0; run < 300; run++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; ) {
      const n = 1 + Math.floor(rnd() * (rnd() < 0.3 ? 3 : 200));
      chunks.push(stream.subarray(i, i + n));
      i += n;
    }
    const framer = new MllpFramer();
    assert.deepEqual(messages(feed(framer, chunks)), payloads);
    assert.deepEqual(framer.end(), []);
  }
});
