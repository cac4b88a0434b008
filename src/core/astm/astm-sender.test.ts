import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { prng } from '../../../test/support/prng.ts';
import { ACK, ENQ, EOT, NAK, STX } from './astm-control.ts';
import { AstmReceiver } from './astm-receiver.ts';
import { AstmSender, type AstmSenderEvent } from './astm-sender.ts';

const RECORDS = ['H|\\^&|||SIM', 'P|1', 'O|1|S1||^^^GLU', `R|1|^^^GLU|${'5'.repeat(300)}|mmol/L`, 'L|1|N'];

test('ENQ, frames one per ACK (text ≤ 240), EOT after the last; long record split with ETB', () => {
  const tx = new AstmSender();
  const start = tx.enqueue(RECORDS);
  assert.deepEqual([...start.send], [ENQ]);
  let out = tx.receive(Buffer.of(ACK));
  assert.equal(out.events[0]?.kind, 'established');
  const frames: Buffer[] = [];
  while (out.send[0] === STX) {
    frames.push(out.send);
    assert.ok(out.send.length <= 247);
    out = tx.receive(Buffer.of(ACK));
  }
  assert.deepEqual([...out.send], [EOT]);
  assert.ok(out.events.some((e) => e.kind === 'delivered' && e.messageId === start.messageId));
  assert.equal(frames.length, 6, 'H, P, O, R in two frames, L');
  assert.deepEqual(
    frames.map((f) => String.fromCharCode(f[1]!)),
    ['1', '2', '3', '4', '5', '6'],
  );
  assert.equal(tx.state, 'idle');
});

test('NAK → identical retransmission; six rejected transmissions → EOT and abort', () => {
  const tx = new AstmSender();
  tx.enqueue(RECORDS);
  const first = tx.receive(Buffer.of(ACK)).send;
  const events: AstmSenderEvent[] = [];
  for (let attempt = 1; attempt <= 5; attempt++) {
    const out = tx.receive(Buffer.of(NAK));
    assert.deepEqual(out.send, first, `retransmission ${attempt}`);
    events.push(...out.events);
  }
  const last = tx.receive(Buffer.of(NAK));
  assert.deepEqual([...last.send], [EOT]);
  const aborted = last.events.find((e) => e.kind === 'aborted');
  assert.ok(aborted?.kind === 'aborted' && aborted.error.code === 'too-many-rejections');
  assert.equal(events.filter((e) => e.kind === 'frame-rejected').length, 5);
  assert.equal(tx.state, 'idle');
});

test('any reply other than ACK/EOT counts as NAK; EOT accepts the frame and requests an interrupt', () => {
  const tx = new AstmSender();
  tx.enqueue(['H|\\^&', 'L|1|N']);
  const first = tx.receive(Buffer.of(ACK)).send;
  assert.deepEqual(tx.receive(Buffer.from('?')).send, first);
  const out = tx.receive(Buffer.of(EOT));
  assert.deepEqual(
    out.events.map((e) => e.kind),
    ['frame-accepted', 'interrupt-requested'],
  );
  assert.equal(out.send[1], 0x32);
});

test('NAK to ENQ and ENQ contention back off (10 s busy; 1 s instrument, 20 s computer); resume() re-sends ENQ', () => {
  const tx = new AstmSender();
  tx.enqueue(RECORDS);
  assert.deepEqual(tx.receive(Buffer.of(NAK)).events, [{ kind: 'backoff', reason: 'busy', retryAfterMs: 10_000 }]);
  assert.deepEqual([...tx.resume().send], [ENQ]);
  assert.deepEqual(tx.receive(Buffer.of(ENQ)).events, [{ kind: 'backoff', reason: 'contention', retryAfterMs: 1_000 }]);
  const host = new AstmSender({ role: 'computer' });
  host.enqueue(RECORDS);
  assert.deepEqual(host.receive(Buffer.of(ENQ)).events, [
    { kind: 'backoff', reason: 'contention', retryAfterMs: 20_000 },
  ]);
  assert.equal(host.state, 'backoff');
});

test('reply time-out aborts with EOT', () => {
  const tx = new AstmSender();
  tx.enqueue(RECORDS);
  tx.receive(Buffer.of(ACK));
  assert.ok(tx.awaitingReply);
  const out = tx.timeout();
  assert.deepEqual([...out.send], [EOT]);
  assert.ok(out.events[0]?.kind === 'aborted' && out.events[0].error.code === 'reply-timeout');
});

test('loopback: sender ↔ receiver over a noisy line delivers every message intact (retransmission on corruption)', () => {
  const rnd = prng(1394);
  const messages = Array.from({ length: 8 }, (_, i) =>
    RECORDS.map((r) => r.replace('S1', `S${i}`).replace('5'.repeat(300), String(i).repeat(50 + i * 90))),
  );
  const tx = new AstmSender();
  const rx = new AstmReceiver();
  let toRx: Buffer = Buffer.concat(messages.map((m) => tx.enqueue(m).send));
  const delivered: string[] = [];
  let corrupted = 0;
  for (let step = 0; step < 10_000 && (toRx.length > 0 || tx.state !== 'idle'); step++) {
    let wire = toRx;
    if (wire[0] === STX && rnd() < 0.2 && corrupted < 30) {
      wire = Buffer.from(wire);
      wire[2] = wire[2]! ^ 0x01;
      corrupted++;
    }
    const out = rx.receive(wire);
    delivered.push(...out.messages.map((m) => m.bytes.toString('latin1')));
    toRx = out.send.length ? tx.receive(out.send).send : Buffer.alloc(0);
    if (toRx.length === 0 && tx.state === 'backoff') toRx = tx.resume().send;
  }
  assert.ok(corrupted > 0);
  assert.deepEqual(
    delivered,
    messages.map((m) => `${m.join('\r')}\r`),
  );
});
