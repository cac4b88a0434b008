import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { test } from 'node:test';
import { parseHl7 } from './parse-hl7.ts';
import { parseHl7Batch } from './parse-hl7-batch.ts';

const ORU = [
  'MSH|^~\\&|LAB|RH|DXHUB|REGION|20240301101500+0100||ORU^R01^ORU_R01|MSG0001|P|2.5.1',
  'PID|1||0101011234^^^CPR&1.2.208.176.1.2&ISO^NNDNK~X1^^^LOCAL||Hansen^Jens^Peter',
  'OBR|1|P1|F1|NPU02319^Hb^NPU',
  'OBX|1|NM|NPU02319^Hb^NPU||8.4|mmol/L|8.3-10.5|N|||F',
  'OBX|2|NM|NPU01685^Leu^NPU||6.1|10*9/L||N|||F',
].join('\r');

function parsed(text: string | Uint8Array) {
  const r = parseHl7(text);
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

test('fields, repetitions, components and subcomponents are 1-based; MSH-1 is the field separator', () => {
  const m = parsed(ORU);
  assert.equal(m.get('MSH', 1), '|');
  assert.equal(m.get('MSH', 2), '^~\\&');
  assert.equal(m.get('MSH', 3), 'LAB');
  assert.deepEqual(m.messageType, { code: 'ORU', trigger: 'R01', structure: 'ORU_R01' });
  assert.equal(m.controlId, 'MSG0001');
  assert.equal(m.get('OBX', 5), '8.4');
  assert.equal(m.get('OBX', 5, 1, 1, { occurrence: 2 }), '6.1');
  assert.equal(m.get('PID', 3, 4, 2), '1.2.208.176.1.2');
  assert.equal(m.get('PID', 3, 1, 1, { repetition: 2 }), 'X1');
  assert.equal(m.raw('PID', 3), '0101011234^^^CPR&1.2.208.176.1.2&ISO^NNDNK~X1^^^LOCAL');
  assert.equal(m.get('OBX', 99), '');
  assert.equal(m.all('OBX').length, 2);
  assert.equal(m.toString(), `${ORU}\r`);
});

test('LF, CRLF, a UTF-8 BOM, blank lines and leftover MLLP bytes are tolerated', () => {
  for (const text of [
    ORU.replaceAll('\r', '\n'),
    ORU.replaceAll('\r', '\r\n'),
    `\uFEFF${ORU}\r\r\n`,
    `\x0b${ORU}\r\x1c\r`,
  ]) {
    assert.equal(parsed(text).segments.length, 5);
  }
});

test('any delimiters declared in MSH-1/MSH-2 are honoured', () => {
  const text = ORU.replaceAll('|', '*').replaceAll('^', '$');
  const m = parsed(text);
  assert.equal(m.delimiters.field, '*');
  assert.equal(m.get('OBX', 3, 2), 'Hb');
  assert.equal(m.get('MSH', 1), '*');
});

test('byte input is decoded with MSH-18 (ISO-8859-1 here), UTF-8 by default', () => {
  const latin1 = Buffer.from(`${ORU.split('\r')[0]}||||||8859/1\rNTE|1||Prøve hæmolyseret\r`, 'latin1');
  assert.equal(parsed(latin1).get('NTE', 3), 'Prøve hæmolyseret');
  const utf8 = Buffer.from(`${ORU}\rNTE|1||Prøve\r`, 'utf8');
  assert.equal(parsed(utf8).get('NTE', 3), 'Prøve');
});

test('one decoder per character set is reused: no byte-order mark or cut-off character carries into the next message', () => {
  const nte = (text: string, charset = 'UNICODE UTF-8') => `${ORU.split('\r')[0]}||||||${charset}\rNTE|1||${text}\r`;
  const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(nte('Prøve'), 'utf8')]);
  // The message ends inside a two-byte character ("ø" is C3 B8): a streaming decoder would hold C3.
  const cut = Buffer.from(nte('Prø'), 'utf8').subarray(0, -2);
  const next = Buffer.from(nte('hæmolyse'), 'utf8');
  const latin2 = Buffer.from(nte('Pr\xf8ve', '8859/2'), 'latin1');
  for (let round = 0; round < 2; round++) {
    assert.equal(parsed(bom).get('NTE', 3), 'Prøve');
    assert.equal(parsed(cut).get('NTE', 3), 'Pr\ufffd');
    assert.equal(parsed(next).get('NTE', 3), 'hæmolyse');
    assert.equal(parsed(next).segments.length, 2);
    assert.equal(parsed(latin2).get('NTE', 3), 'Pr\u0159ve', 'ISO-8859-2: F8 is ř');
  }
});

test('structural errors are typed, with a location and the table 0357 condition', () => {
  const cases: [string, string, string][] = [
    ['', 'empty-message', '100'],
    ['\r\n\r', 'empty-message', '100'],
    ['PID|1||X\rMSH|^~\\&', 'msh-not-first', '100'],
    ['FHS|^~\\&\rMSH|^~\\&|A', 'batch-header', '100'],
    ['MSH', 'missing-field-separator', '101'],
    ['MSH|', 'missing-encoding-characters', '101'],
    ['MSH|^^^^|A', 'invalid-encoding-characters', '102'],
    ['MSH|^~\\&|A|B|C|D|20240101||||P|2.5', 'missing-message-type', '101'],
    ['MSH|^~\\&|A|B|C|D|20240101||ORU^R01||P|2.5', 'missing-control-id', '101'],
    [`${ORU}\rOB|1`, 'bad-segment-name', '100'],
    [`${ORU}\robx|1`, 'bad-segment-name', '100'],
    [`${ORU}\rOBXX|1`, 'bad-segment-name', '100'],
    [`${ORU}\r${ORU}`, 'second-msh', '100'],
    [`${ORU}\rBTS|1`, 'batch-segment-in-message', '100'],
  ];
  for (const [text, code, condition] of cases) {
    const r = parseHl7(text);
    assert.equal(r.ok, false, code);
    if (!r.ok) {
      assert.equal(r.error.kind, 'hl7-error');
      assert.equal(r.error.code, code, text.slice(0, 30));
      assert.equal(r.error.condition, condition);
      assert.ok(r.error.message.length > 0);
    }
  }
  const second = parseHl7(`${ORU}\r${ORU}`);
  assert.ok(!second.ok && second.error.line === 6 && second.error.header?.get(10) === 'MSG0001');
});

test('batches: FHS/BHS … BTS/FTS, one result per message, count mismatch reported', () => {
  const batch = ['FHS|^~\\&|LAB', 'BHS|^~\\&|LAB', ORU, ORU.replace('MSG0001', 'MSG0002'), 'BTS|3', 'FTS|1'].join('\r');
  const r = parseHl7Batch(batch);
  assert.ok(r.ok);
  assert.equal(r.value.messages.length, 2);
  assert.deepEqual(
    r.value.messages.map((m) => m.ok && m.value.controlId),
    ['MSG0001', 'MSG0002'],
  );
  assert.equal(r.value.fileHeader?.get(3), 'LAB');
  assert.equal(r.value.warnings[0]?.code, 'batch-count-mismatch');
});
