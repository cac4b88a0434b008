import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ackErrorFrom, buildAck } from './build-ack.ts';
import { encodeHl7 } from './encode-hl7.ts';
import { parseHl7 } from './parse-hl7.ts';
import { readMsa } from './read-msa.ts';
import { readMsh } from './read-msh.ts';
import { validateObxValues } from './validate-obx-values.ts';

const REQUEST =
  'MSH|^~\\&|LABSYS^1.2.3&x^ISO|RH|DXHUB|REGION|20240301101500+0100||ORU^R01^ORU_R01|MSG0001|T|2.5.1|||AL|NE||8859/1\r' +
  'OBX|1|NM|NPU02319^Hb^NPU||8,4|mmol/L||N|||F\r';
const NOW = new Date(Date.UTC(2024, 2, 1, 9, 15, 30));

function parse(text: string) {
  const r = parseHl7(text);
  if (!r.ok) assert.fail(r.error.message);
  return r.value;
}

test('AA: swapped sender/receiver, new control ID, ACK^<trigger>^ACK, same processing ID, version and charset', () => {
  const ack = buildAck(parse(REQUEST), { code: 'AA', controlId: 'ACK0001', now: NOW });
  assert.equal(
    ack,
    'MSH|^~\\&|DXHUB|REGION|LABSYS^1.2.3&x^ISO|RH|20240301091530+0000||ACK^R01^ACK|ACK0001|T|2.5.1||||||8859/1\rMSA|AA|MSG0001\r',
  );
  const parsed = parse(ack);
  const h = readMsh(parsed.header);
  assert.deepEqual(h.messageType, { code: 'ACK', trigger: 'R01', structure: 'ACK' });
  assert.deepEqual(readMsa(parsed.segment('MSA')!), { code: 'AA', controlId: 'MSG0001', text: '' });
});

test('AE with ERR from validation: v2.5 ERR-2 location, ERR-3 table 0357, ERR-4 severity, text escaped', () => {
  const request = parse(REQUEST);
  const errors = validateObxValues(request);
  assert.equal(errors.length, 1);
  const ack = buildAck(request, {
    code: 'AE',
    text: 'Value | check',
    errors: errors.map(ackErrorFrom),
    controlId: 'A2',
    now: NOW,
  });
  const parsed = parse(ack);
  assert.equal(parsed.get('MSA', 3), 'Value | check');
  const err = parsed.segment('ERR')!;
  assert.equal(err.raw(2), 'OBX^1^5^1');
  assert.equal(err.raw(3), '102^Data type error^HL70357');
  assert.equal(err.get(4), 'E');
  assert.match(err.get(8), /Not a valid NM/);
  assert.ok(!err.get(8).includes('|') || err.raw(8).includes('\\F\\'));
});

test('explicit ERR entries and CA/CR enhanced-mode codes', () => {
  const ack = buildAck(parse(REQUEST), {
    code: 'CR',
    errors: [{ segment: 'OBX', sequence: 1, field: 6, code: '103', severity: 'W', text: 'Unit giga.l-1 not in UCUM' }],
    controlId: 'A3',
    now: NOW,
  });
  assert.match(
    ack,
    /\rMSA\|CR\|MSG0001\rERR\|\|OBX\^1\^6\|103\^Table value not found\^HL70357\|W\|\|\|\|Unit giga\.l-1 not in UCUM\r$/,
  );
});

test('AR for an unparseable message uses the best-effort header of the error', () => {
  const r = parseHl7('MSH|^~\\&|S|SF|R|RF|20230101|||111111|D|2.5.1');
  assert.ok(!r.ok);
  const ack = buildAck(r.error, {
    code: 'AR',
    text: r.error.message,
    errors: [ackErrorFrom(r.error)],
    controlId: 'A4',
    now: NOW,
  });
  const parsed = parse(ack);
  assert.equal(parsed.get('MSH', 3), 'R');
  assert.equal(parsed.get('MSH', 5), 'S');
  assert.equal(parsed.get('MSH', 9), 'ACK');
  assert.equal(parsed.get('MSA', 2), '111111');
  assert.equal(parsed.segment('ERR')?.raw(2), 'MSH^1^9');
  assert.equal(parsed.segment('ERR')?.get(3), '101');
  // With no header at all (empty input) an ACK can still be produced.
  const empty = parseHl7('');
  assert.ok(!empty.ok);
  assert.ok(parseHl7(buildAck(empty.error, { code: 'AR', controlId: 'A5', now: NOW })).ok);
  assert.equal(buildAck(empty.error, { code: 'AR', now: NOW }).split('|')[9]?.length, 20);
});

test('encodeHl7 escapes leaves, writes repetitions/components/subcomponents, trims trailing empties', () => {
  const text = encodeHl7([
    {
      name: 'MSH',
      fields: [undefined, undefined, 'A', 'B', 'C', 'D', '20240101', undefined, ['ORU', 'R01'], 'X1', 'P', '2.5.1'],
    },
    {
      name: 'PID',
      fields: [
        '1',
        undefined,
        { repeat: [['0101011234', undefined, undefined, ['CPR', '1.2.208.176.1.2', 'ISO']], 'X2'] },
      ],
    },
    { name: 'NTE', fields: ['1', undefined, 'a|b^c~d&e\\f\nnew line', null, undefined, { raw: 'kept\\.br\\raw' }] },
    { name: 'ZZZ', fields: [undefined, undefined] },
  ]);
  assert.equal(
    text,
    'MSH|^~\\&|A|B|C|D|20240101||ORU^R01|X1|P|2.5.1\r' +
      'PID|1||0101011234^^^CPR&1.2.208.176.1.2&ISO~X2\r' +
      'NTE|1||a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f\\X0A\\new line|""||kept\\.br\\raw\r' +
      'ZZZ\r',
  );
  const m = parse(text);
  assert.equal(m.get('NTE', 3), 'a|b^c~d&e\\f\nnew line');
  assert.equal(m.get('PID', 3, 4, 2), '1.2.208.176.1.2');
  assert.ok(m.segment('NTE')!.field(4).isNull);
});
