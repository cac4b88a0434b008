import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { prng } from '../../../test/support/prng.ts';
import { ACK, ENQ, EOT, NAK } from './astm-control.ts';
import { buildAstmFrame } from './astm-frame.ts';
import { AstmReceiver, type AstmReceiverOutput } from './astm-receiver.ts';
import { encodeAstmFrames } from './encode-astm-frames.ts';

const MESSAGE = [
  'H|\\^&|||XN-550',
  'P|1||CPR123',
  'O|1|S1||^^^^WBC',
  `R|1|^^^^WBC^1|8.13|10*3/uL||N||F||||20240627135407`,
  'L|1|N',
];
const TEXT = `${MESSAGE.join('\r')}\r`;

function run(rx: AstmReceiver, chunks: Uint8Array[]) {
  const outs: AstmReceiverOutput[] = chunks.map((c) => rx.receive(c));
  return {
    send: [...Buffer.concat(outs.map((o) => o.send))],
    messages: outs.flatMap((o) => o.messages.map((m) => m.bytes.toString('latin1'))),
    events: outs.flatMap((o) => o.events),
  };
}

test('ENQ → ACK, each good frame → ACK, message delivered with the ACK of the L frame, EOT ends', () => {
  const rx = new AstmReceiver();
  assert.deepEqual([...rx.receive(Buffer.of(ENQ)).send], [ACK]);
  const frames = encodeAstmFrames(MESSAGE);
  for (const f of frames.slice(0, -1)) {
    const out = rx.receive(f);
    assert.deepEqual([...out.send], [ACK]);
    assert.equal(out.messages.length, 0);
  }
  const last = rx.receive(frames.at(-1)!);
  assert.deepEqual([...last.send], [ACK]);
  assert.deepEqual(
    last.messages.map((m) => [m.bytes.toString('latin1'), m.terminated]),
    [[TEXT, true]],
  );
  const end = rx.receive(Buffer.of(EOT));
  assert.deepEqual(end.events, [{ kind: 'session-end' }]);
  assert.equal(rx.state, 'neutral');
});

test('bad checksum → NAK, the retransmitted good frame → ACK', () => {
  const rx = new AstmReceiver();
  rx.receive(Buffer.of(ENQ));
  const good = buildAstmFrame(1, 'H|\\^&\r', true);
  const bad = Buffer.from(good);
  bad[bad.length - 3] = 0x5a;
  const out = run(rx, [bad, good]);
  assert.deepEqual(out.send, [NAK, ACK]);
  assert.equal(out.events[0]?.kind === 'error' && out.events[0].error.code, 'malformed-frame');
  const corrupt = Buffer.from(buildAstmFrame(2, 'P|1\r', true));
  corrupt[3] = 0x58;
  const r2 = rx.receive(corrupt);
  assert.deepEqual([...r2.send], [NAK]);
  assert.equal(r2.events[0]?.kind === 'error' && r2.events[0].error.code, 'bad-checksum');
});

test('wrong frame number → NAK; a repeated last frame (lost ACK) → ACK and discarded', () => {
  const rx = new AstmReceiver();
  rx.receive(Buffer.of(ENQ));
  const out = run(rx, [
    buildAstmFrame(2, 'H|\\^&\r', true),
    buildAstmFrame(1, 'H|\\^&\r', true),
    buildAstmFrame(1, 'H|\\^&\r', true),
    buildAstmFrame(2, 'L|1|N\r', true),
  ]);
  assert.deepEqual(out.send, [NAK, ACK, ACK, ACK]);
  assert.deepEqual(out.messages, ['H|\\^&\rL|1|N\r']);
  assert.ok(out.events.some((e) => e.kind === 'duplicate-frame'));
  assert.ok(out.events.some((e) => e.kind === 'error' && e.error.code === 'unexpected-frame-number'));
});

test('ETB frames are concatenated into one record; frame numbers wrap 7 → 0', () => {
  const long = `R|1|^^^X|${'7'.repeat(2000)}|`;
  const frames = encodeAstmFrames(['H|\\^&', long, 'L|1|N']);
  assert.ok(frames.length > 9);
  const rx = new AstmReceiver();
  const out = run(rx, [Buffer.of(ENQ), ...frames, Buffer.of(EOT)]);
  assert.ok(out.send.every((b) => b === ACK));
  assert.deepEqual(out.messages, [`H|\\^&\r${long}\rL|1|N\r`]);
});

test('EOT without an L record delivers the message unterminated; EOT inside a record discards it', () => {
  const rx = new AstmReceiver();
  const out = rx.receive(Buffer.concat([Buffer.of(ENQ), ...encodeAstmFrames(['H|\\^&', 'R|1']), Buffer.of(EOT)]));
  assert.deepEqual(
    out.messages.map((m) => m.terminated),
    [false],
  );
  const partial = rx.receive(
    Buffer.concat([Buffer.of(ENQ), buildAstmFrame(1, 'H|\\^&\rR|1|^^^X|12', false), Buffer.of(EOT)]),
  );
  assert.equal(partial.messages.length, 0);
  const err = partial.events.find((e) => e.kind === 'error');
  assert.ok(
    err?.kind === 'error' &&
      err.error.code === 'incomplete-message' &&
      err.discarded?.toString() === 'H|\\^&\rR|1|^^^X|12',
  );
});

test('frames without ENQ are ignored unless adopted; busy receivers NAK the ENQ', () => {
  const frame = buildAstmFrame(1, 'H|\\^&\rL|1|N\r', true);
  const strict = new AstmReceiver().receive(frame);
  assert.equal(strict.send.length, 0);
  assert.equal(strict.events[0]?.kind === 'error' && strict.events[0].error.code, 'frame-without-session');
  const lenient = new AstmReceiver({ acceptFramesWithoutEnq: true }).receive(frame);
  assert.deepEqual([...lenient.send], [ACK]);
  assert.equal(lenient.messages.length, 1);
  const busy = new AstmReceiver();
  busy.setBusy(true);
  assert.deepEqual([...busy.receive(Buffer.of(ENQ)).send], [NAK]);
  assert.equal(busy.state, 'neutral');
});

test('receiver time-out discards the partial message; oversize messages are refused until EOT', () => {
  const rx = new AstmReceiver();
  rx.receive(Buffer.concat([Buffer.of(ENQ), buildAstmFrame(1, 'H|\\^&\r', true)]));
  const t = rx.timeout();
  assert.ok(t.events[0]?.kind === 'error' && t.events[0].error.code === 'receiver-timeout');
  assert.equal(rx.state, 'neutral');
  const small = new AstmReceiver({ maxMessageBytes: 100 });
  const frames = encodeAstmFrames(['H|\\^&', `R|1|^^^X|${'1'.repeat(200)}`, 'L|1|N']);
  const out = run(small, [Buffer.of(ENQ), ...frames, Buffer.of(EOT)]);
  assert.deepEqual(out.send, [ACK, ACK, NAK, NAK]);
  assert.equal(out.messages.length, 0);
  assert.ok(out.events.some((e) => e.kind === 'error' && e.error.code === 'message-too-large'));
  assert.equal(small.state, 'neutral');
});

test('property: any split of a session byte stream gives the same replies and messages', () => {
  const second = MESSAGE.map((r) => r.replace('CPR123', 'CPR456'));
  const stream = Buffer.concat([
    Buffer.of(ENQ),
    ...encodeAstmFrames([...MESSAGE, ...second], { maxFrameText: 17 }),
    Buffer.of(EOT),
    Buffer.from('\r\n'),
    Buffer.of(ENQ),
    ...encodeAstmFrames(MESSAGE),
    Buffer.of(EOT),
  ]);
  const reference = run(new AstmReceiver(), [stream]);
  assert.equal(reference.messages.length, 3);
  assert.equal(reference.messages[0], TEXT);
  const rnd = prng(1381);
  for (let i = 0; i < 300; i++) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 4 : 90));
      chunks.push(stream.subarray(at, at + n));
      at += n;
    }
    const got = run(new AstmReceiver(), chunks);
    assert.deepEqual(got.send, reference.send);
    assert.deepEqual(got.messages, reference.messages);
  }
});
