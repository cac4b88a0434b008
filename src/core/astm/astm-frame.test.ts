import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { astmChecksum } from './astm-checksum.ts';
import { ENQ, EOT, ETB, ETX, STX } from './astm-control.ts';
import { buildAstmFrame } from './astm-frame.ts';
import { AstmTokenizer } from './astm-tokenizer.ts';
import { encodeAstmFrames } from './encode-astm-frames.ts';

test('checksum worked example: "5L|1|N<CR><ETX>" sums to 0x208, mod 256 = 08 (mini VIDAS capture, last frame)', () => {
  // '5'0x35 + 'L'0x4C + '|'0x7C + '1'0x31 + '|'0x7C + 'N'0x4E + CR 0x0D + ETX 0x03 = 0x208.
  assert.equal(astmChecksum(Buffer.from('5L|1|N\r\x03', 'latin1')), '08');
});

test('checksum worked examples from cobas c111 frames (ETB and ETX)', () => {
  assert.equal(astmChecksum(Buffer.from('2P|1||\r\x17', 'latin1')), '4B');
  assert.equal(astmChecksum(Buffer.from('7L|1|N\r\x03', 'latin1')), '0A');
  assert.equal(astmChecksum(Buffer.from('4R|1|^^^413|40.13|g/L||N||F||$SYS$||20230803131700\r\x17', 'latin1')), 'CE');
  // Upper-case hex, two digits.
  assert.equal(astmChecksum(Uint8Array.of(0x01)), '01');
  assert.equal(astmChecksum(Uint8Array.of(0xff, 0xfb)), 'FA');
});

test('buildAstmFrame: <STX> FN text <ETB|ETX> C1 C2 <CR><LF>', () => {
  const f = buildAstmFrame(5, 'L|1|N\r', true);
  assert.deepEqual([...f], [STX, 0x35, ...Buffer.from('L|1|N\r'), ETX, 0x30, 0x38, 0x0d, 0x0a]);
  assert.equal(buildAstmFrame(8, 'x', false)[1], 0x30, 'frame number modulo 8');
  assert.equal(buildAstmFrame(2, 'P|1||\r', false).at(-5), ETB);
});

test('encodeAstmFrames: one frame per record, ≤ 240 text bytes, ETB continuation, numbers 1…7,0,1', () => {
  const long = `R|1|^^^GLU|${'9'.repeat(600)}`;
  const frames = encodeAstmFrames(['H|\\^&', long, 'L|1|N']);
  assert.deepEqual(
    frames.map((f) => [String.fromCharCode(f[1]!), f.at(-5) === ETX ? 'ETX' : 'ETB', f.length - 7]),
    [
      ['1', 'ETX', 6],
      ['2', 'ETB', 240],
      ['3', 'ETB', 240],
      ['4', 'ETX', 132],
      ['5', 'ETX', 6],
    ],
  );
  const many = encodeAstmFrames(Array.from({ length: 10 }, (_, i) => `C|${i}`));
  assert.equal(many.map((f) => String.fromCharCode(f[1]!)).join(''), '1234567012');
  assert.ok(frames.every((f) => f.length <= 247));
});

test('tokenizer: controls, frames with any line ending, bad checksum, interrupted and oversize frames', () => {
  const t = new AstmTokenizer({ maxFrameBytes: 50 });
  const good = buildAstmFrame(1, 'H|\\^&\r', true);
  const bad = Buffer.from(good);
  bad[3] = 0x21;
  const tokens = t.push(
    Buffer.concat([
      Buffer.of(ENQ),
      good.subarray(0, good.length - 2),
      Buffer.from('xx'),
      bad,
      Buffer.of(STX, 0x31, 0x41, EOT),
      buildAstmFrame(2, 'X'.repeat(60), true),
      Buffer.of(STX, 0x39, 0x41, ETX, 0x30, 0x30),
      Buffer.of(EOT),
    ]),
  );
  assert.deepEqual(
    tokens.map((k) =>
      k.kind === 'bad-frame' ? k.error.code : k.kind === 'frame' ? `frame${k.frame.number}` : `ctl${k.byte}`,
    ),
    ['ctl5', 'frame1', 'bad-checksum', 'frame-interrupted', 'ctl4', 'frame-too-long', 'malformed-frame', 'ctl4'],
  );
  assert.equal(t.ignoredBytes, 2);
});
