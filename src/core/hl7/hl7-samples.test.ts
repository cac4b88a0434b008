import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildAck } from './build-ack.ts';
import { parseHl7 } from './parse-hl7.ts';
import { parseHl7Batch } from './parse-hl7-batch.ts';
import { readMsa } from './read-msa.ts';
import { readMsh } from './read-msh.ts';
import { readObx } from './read-obx.ts';
import { readPid } from './read-pid.ts';
import { validateObxValues } from './validate-obx-values.ts';

/** Permissively licensed copies of ../shared/data/hl7 (see ATTRIBUTION.md there). */
const DIR = path.resolve(import.meta.dirname, '../../../test/fixtures/hl7');
const files = readdirSync(DIR).filter((f) => f.endsWith('.hl7'));
const read = (f: string) => readFileSync(path.join(DIR, f));

function parsed(file: string) {
  const r = parseHl7(read(file));
  if (!r.ok) assert.fail(`${file}: ${r.error.code} ${r.error.message}`);
  return r.value;
}

test('the fixture set is complete (47 messages)', () => {
  assert.equal(files.length, 47);
});

const WELL_FORMED = files.filter((f) => !f.startsWith('malformed-') && f !== 'oru-r01-ti-08-obx2-with-components.hl7');

test('every well-formed sample parses, re-serialises identically and reads MSH/PID/OBX', () => {
  for (const f of WELL_FORMED) {
    const m = parsed(f);
    assert.equal(m.header.name, 'MSH', f);
    assert.notEqual(m.messageType.code, '', f);
    assert.notEqual(m.controlId, '', f);
    const bytes = read(f).toString('utf8');
    assert.equal(m.toString(), bytes.endsWith('\r') ? bytes : `${bytes}\r`, f);
    const h = readMsh(m.header);
    assert.equal(h.fieldSeparator, '|');
    for (const pid of m.all('PID')) assert.ok(readPid(pid).identifiers.length > 0, `${f} PID-3`);
    for (const obx of m.all('OBX')) readObx(obx);
  }
});

test('message types of the samples', () => {
  const types = new Map(WELL_FORMED.map((f) => [f, parsed(f).messageType.code]));
  for (const [f, code] of types) {
    const expected = f.split('-')[0]!.toUpperCase();
    // oml-o21-ms-02 is published with MSH-9 ORM^O01 although it is filed as an OML sample.
    assert.equal(code, f === 'oml-o21-ms-02-lab-order.hl7' ? 'ORM' : expected, f);
  }
});

test('escapes in oru-r01-derived-03 decode: \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\X0D0A\\ \\.br\\ \\H\\ \\N\\', () => {
  const m = parsed('oru-r01-derived-03-escapes.hl7');
  const tx = readObx(m.segment('OBX', 6)!);
  assert.equal(tx.valueType, 'TX');
  assert.deepEqual(tx.values, [
    'Smear reviewed\nField sep | component ^ subcomponent & repetition ~ escape \\ and highlighted text',
  ]);
  const st = readObx(m.segment('OBX', 7)!);
  assert.deepEqual(st.values, ['Hex CR LF \r\n inside; ratio 1^2']);
  assert.equal(
    m.segment('NTE')!.field(3).text(),
    'Reference: WBC diff & morphology per lab SOP 12|A; see \\\\ network share',
  );
  assert.ok(m.raw('NTE', 3).includes('\\E\\\\E\\'), 'raw access keeps escapes');
  assert.deepEqual(validateObxValues(m), []);
});

test('other escape-bearing ORU samples decode (\\T\\, \\S\\, \\.br\\, UTF-8 text)', () => {
  const ti04 = parsed('oru-r01-ti-04-newborn-screening-tx.hl7');
  const texts = ti04.all('OBX').flatMap((o) => readObx(o).values);
  assert.ok(
    texts.some((t) => t.includes('\n')),
    '\\.br\\ (sent in an ST here) becomes a line break',
  );
  assert.ok(!texts.some((t) => t.includes('\\.br\\')));
  assert.ok(ti04.toString().match(/[“”’]/), 'UTF-8 typographic quotes survive decoding');
  const ms01 = parsed('oru-r01-ms-01-lab-mixed-types.hl7');
  assert.ok(ms01.segments.some((s) => s.toString().includes('\\T\\')));
  const ti03 = parsed('oru-r01-ti-03-nbs-obr-flatten.hl7');
  assert.ok(
    ti03.all('OBX').some((o) => readObx(o).observationId.display === 'Body weight^at birth'),
    '\\S\\ in OBX-3.2 decoded',
  );
});

test('all ORU samples: OBX-5 values match their OBX-2 types, SN glucose and correction statuses read', () => {
  for (const f of WELL_FORMED.filter((x) => x.startsWith('oru-'))) {
    assert.deepEqual(
      validateObxValues(parsed(f)).map((e) => e.message),
      [],
      f,
    );
  }
  const sn = readObx(parsed('oru-r01-ms-02-sn-glucose.hl7').segment('OBX')!);
  assert.equal(sn.valueType, 'SN');
  assert.equal(sn.valueRepetitions[0]?.component(2), '182');
  assert.deepEqual(sn.abnormalFlags, ['H']);
  const corrected = parsed('oru-r01-derived-01-correction.hl7');
  assert.equal(corrected.get('OBR', 25), 'C');
  assert.deepEqual(
    corrected
      .all('OBX')
      .map((o) => readObx(o).resultStatus)
      .filter((s) => s === 'C').length,
    2,
  );
});

test('PID repetitions and subcomponents (adt-a01-ms-01, oml-o21-ms-01)', () => {
  for (const f of ['adt-a01-ms-01-admit-full.hl7', 'oml-o21-ms-01-lab-order.hl7']) {
    const pid = readPid(parsed(f).segment('PID')!);
    assert.ok(pid.identifiers.length >= 1, f);
    assert.ok(pid.names.length >= 1 && pid.names[0]!.family, f);
  }
  const merge = parsed('adt-a40-ms-02-merge-two.hl7');
  assert.equal(merge.all('PID').length, 2);
  assert.equal(merge.all('MRG').length, 2);
});

test('ACK samples read back (AA, AE + ERR, AR + ERR)', () => {
  assert.equal(readMsa(parsed('ack-ti-01-natus.hl7').segment('MSA')!).code, 'AA');
  const ae = parsed('ack-derived-01-ae.hl7');
  assert.deepEqual(readMsa(ae.segment('MSA')!), {
    code: 'AE',
    controlId: 'ControlID',
    text: 'Unknown observation unit',
  });
  assert.equal(ae.segment('ERR')!.raw(2), 'OBX^1^6');
  const ar = parsed('ack-derived-02-ar.hl7');
  assert.equal(ar.get('ERR', 3), '101');
});

test('oru-r01-ti-08 starts with FHS/BHS: rejected as a single message, accepted as a batch', () => {
  const single = parseHl7(read('oru-r01-ti-08-obx2-with-components.hl7'));
  assert.ok(!single.ok && single.error.code === 'batch-header');
  const batch = parseHl7Batch(read('oru-r01-ti-08-obx2-with-components.hl7'));
  assert.ok(batch.ok);
  assert.equal(batch.value.messages.length, 1);
  const m = batch.value.messages[0]!;
  assert.ok(m.ok);
  assert.equal(m.value.charset, 'utf-8');
  const obx = m.value.all('OBX').map(readObx);
  assert.ok(obx.length > 0);
  assert.ok(
    obx.every((o) => o.valueType.length <= 3),
    'OBX-2 CWE^^HL70125 reads as its code',
  );
  assert.ok(
    obx.every((o) => o.resultStatus.length === 1),
    'OBX-11 F^...^HL70085 reads as its code',
  );
});

test('malformed samples yield the right typed errors', () => {
  const expected: Record<string, string> = {
    'malformed-ti-01-empty.hl7': 'empty-message',
    'malformed-ti-02-msh-only.hl7': 'missing-encoding-characters',
    'malformed-ti-03-missing-msh2.hl7': 'missing-encoding-characters',
    'malformed-ti-04-missing-msh9.hl7': 'missing-message-type',
    'malformed-ti-05-missing-msh10.hl7': 'missing-control-id',
    'malformed-ti-09-wrapped-obr.hl7': 'bad-segment-name',
  };
  for (const [f, code] of Object.entries(expected)) {
    const r = parseHl7(read(f));
    assert.ok(!r.ok, f);
    if (!r.ok) {
      assert.equal(r.error.code, code, f);
      // Every structural error can still be answered with an AR.
      assert.ok(parseHl7(buildAck(r.error, { code: 'AR', controlId: 'T', now: new Date(0) })).ok, f);
    }
  }
  const wrapped = parseHl7(read('malformed-ti-09-wrapped-obr.hl7'));
  assert.ok(!wrapped.ok && wrapped.error.line === 6 && wrapped.error.message.includes('panel AHIC'));
  const values: Record<string, string> = {
    'malformed-ti-06-nm-not-numeric.hl7': 'invalid-numeric',
    'malformed-ti-07-bad-dtm.hl7': 'invalid-date-time',
    'malformed-ti-08-bad-xad.hl7': 'unstructured-address',
  };
  for (const [f, code] of Object.entries(values)) {
    const errors = validateObxValues(parsed(f));
    assert.deepEqual(
      errors.map((e) => [e.code, e.condition, e.location]),
      [[code, '102', { segment: 'OBX', sequence: 1, field: 5, repetition: 1 }]],
      f,
    );
  }
});

test('malformed-ms-01 (BOM + LF separators) parses to the same segments as oru-r01-ms-03', () => {
  const raw = parsed('malformed-ms-01-bom-lf-separators.hl7');
  const clean = parsed('oru-r01-ms-03-hemogram-partial.hl7');
  assert.deepEqual(
    raw.segments.map((s) => s.toString()),
    clean.segments.map((s) => s.toString()),
  );
});
