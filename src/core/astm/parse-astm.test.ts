import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAstmDateTime } from './astm-date-time.ts';
import { DEFAULT_ASTM_DELIMITERS } from './astm-delimiters.ts';
import { escapeAstm, unescapeAstm } from './astm-escape.ts';
import { readAstmQuery } from './astm-query.ts';
import { readAstmTerminator } from './astm-terminator.ts';
import { parseAstmMessage, parseAstmMessages, parseAstmRecords } from './parse-astm.ts';

const MSG = [
  'H|\\^&|||cobas^1|||||host|RSUPL^REAL|P|1|20240203132011',
  'P|1|0101011234||||Hansen^Jens||19610101|M',
  'O|1|S100^rack7^3||^^^GLU\\^^^CREA|R|20240203120000',
  'R|1|^^^GLU|  5.4 |mmol/L|4.0 to 6.0|N||F||op1||20240203132000|c311',
  'C|1|I|Hemolysis &E& lipemia^checked|G',
  'R|2|^^^CREA|130|umol/L||H\\>||F||||20240203132005',
  'L|1|N',
].join('\r');

function message(text: string) {
  const r = parseAstmMessage(text);
  if (!r.ok) assert.fail(r.error.message);
  return r.value;
}

test('fields are numbered as in E1394 (field 1 = record type), with repeats and components', () => {
  const m = message(MSG);
  const o = m.all('O')[0]!;
  assert.equal(o.get(1), 'O');
  assert.equal(o.get(3), 'S100');
  assert.deepEqual(o.components(3), ['S100', 'rack7', '3']);
  assert.deepEqual(
    o.repetitions(5).map((r) => r[3]),
    ['GLU', 'CREA'],
  );
  assert.equal(m.records[0].raw(2), '\\^&', 'H-2 is never split');
  assert.equal(m.header.senderName, 'cobas');
  assert.equal(m.header.processingId, 'P');
  assert.equal(m.header.dateTime, '20240203132011');
  assert.ok(m.terminated);
});

test('results() gives each R with its patient, order and following comments; typed R fields', () => {
  const [glu, crea] = message(MSG).results();
  assert.equal(glu?.patient?.practicePatientId, '0101011234');
  assert.equal(glu?.order?.specimenId, 'S100');
  assert.deepEqual(
    glu?.order?.tests.map((t) => t.code),
    ['GLU', 'CREA'],
  );
  assert.deepEqual(
    {
      code: glu?.result.testId.code,
      value: glu?.result.value,
      units: glu?.result.units,
      range: glu?.result.referenceRange,
    },
    { code: 'GLU', value: '5.4', units: 'mmol/L', range: '4.0 to 6.0' },
  );
  assert.deepEqual(glu?.result.abnormalFlags, ['N']);
  assert.equal(glu?.result.status, 'F');
  assert.equal(glu?.result.completedDateTime, '20240203132000');
  assert.equal(glu?.result.instrumentId, 'c311');
  assert.deepEqual(
    glu?.comments.map((c) => c.text),
    ['Hemolysis & lipemia checked'],
  );
  assert.deepEqual(crea?.result.abnormalFlags, ['H', '>']);
  assert.deepEqual(crea?.comments, []);
});

test('delimiters come from the H record, whatever they are', () => {
  const custom = MSG.replaceAll('|', '!').replaceAll('\\', '@').replaceAll('^', '#');
  const m = message(custom);
  assert.deepEqual(m.delimiters, { field: '!', repeat: '@', component: '#', escape: '&' });
  assert.equal(m.results()[0]?.result.testId.code, 'GLU');
});

test('escapes &F& &S& &R& &E& (and hex) decode on read; escapeAstm inverts', () => {
  const d = DEFAULT_ASTM_DELIMITERS;
  assert.equal(unescapeAstm('a&F&b&S&c&R&d&E&e&X41&', d), 'a|b^c\\d&eA');
  assert.equal(unescapeAstm('Type & Screen &', d), 'Type & Screen &', 'a lone & is data');
  assert.equal(unescapeAstm(escapeAstm('x|y^z\\w&v', d), d), 'x|y^z\\w&v');
});

test('record errors are typed: empty, no header, bad delimiters, bad record', () => {
  const code = (r: { ok: boolean; error?: { code: string } } | { ok: true }) => ('error' in r ? r.error?.code : 'ok');
  assert.equal(code(parseAstmMessages('')), 'empty-message');
  assert.equal(code(parseAstmMessages('P|1\rL|1')), 'missing-header');
  assert.equal(code(parseAstmMessages('H|^^^|||x')), 'invalid-delimiters');
  assert.equal(code(parseAstmMessages('H|\\^&\r  garbage\rL|1')), 'invalid-record');
  assert.equal(code(parseAstmMessages('H|\\^&\r1R|1\rL|1')), 'invalid-record');
  const lines = parseAstmRecords('H|\\^&\n\nP|1\r\nL|1|N');
  assert.ok(lines.ok && lines.value.map((r) => r.line).join() === '1,3,4');
});

test('several messages in one text, each H starting a new one', () => {
  const r = parseAstmMessages(`${MSG}\r${MSG.replace('0101011234', '0202022345')}`);
  assert.ok(r.ok);
  assert.deepEqual(
    r.value.map((m) => m.results()[0]?.patient?.patientId),
    ['0101011234', '0202022345'],
  );
});

test('Q and L records', () => {
  const q = parseAstmRecords('H|\\^&\rQ|1|^S100||^^^ALL||||||||O\rL|1|F');
  assert.ok(q.ok);
  assert.deepEqual(readAstmQuery(q.value[1]!).startingRange, ['', 'S100']);
  assert.equal(readAstmQuery(q.value[1]!).statusCode, 'O');
  assert.deepEqual(readAstmTerminator(q.value[2]!), { sequence: '1', code: 'F' });
});

test('timestamps YYYYMMDDHHMMSS: precision kept, instrument time zone applied, invalid rejected', () => {
  assert.deepEqual(parseAstmDateTime('20230329110749', { timeZone: 'Europe/Copenhagen' }), {
    ok: true,
    value: { fhir: '2023-03-29T11:07:49+02:00', precision: 'second', offsetAssumed: true },
  });
  assert.deepEqual(parseAstmDateTime('20240203', {}), {
    ok: true,
    value: { fhir: '2024-02-03', precision: 'day', offsetAssumed: false },
  });
  assert.equal(parseAstmDateTime('202402031320', { timeZone: 'UTC' }).ok && 'ok', 'ok');
  const noZone = parseAstmDateTime('20230329110749');
  assert.ok(!noZone.ok && noZone.error.code === 'missing-time-zone');
  for (const bad of ['2023032911074', '20231301120000', '20230229', '2023-03-29', '20230329110749+0100']) {
    const r = parseAstmDateTime(bad, { timeZone: 'UTC' });
    assert.ok(!r.ok && r.error.code === 'invalid-date-time', bad);
  }
});
