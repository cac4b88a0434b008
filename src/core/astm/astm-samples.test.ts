import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { prng } from '../../../test/support/prng.ts';
import { readAstmComment } from './astm-comment.ts';
import { ENQ, EOT } from './astm-control.ts';
import { AstmReceiver } from './astm-receiver.ts';
import { decodeAstmCapture } from './decode-astm-capture.ts';
import { encodeAstmFrames } from './encode-astm-frames.ts';
import { parseAstmMessages, parseAstmRecords } from './parse-astm.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
/** MIT transcripts, copied (see ATTRIBUTION.md there). */
const FIXTURES = path.join(REPO, 'test/fixtures/astm');
/** GPL-2.0 captures (senaite.astm): read in place, never copied into the repository. */
const SHARED = path.resolve(REPO, '../shared/data/astm');
const gplSkip = existsSync(SHARED) ? false : `GPL-licensed ASTM captures not found at ${SHARED}`;
if (gplSkip) console.log(`# skipping E1381 capture tests: ${gplSkip}`);

function capture(name: string) {
  const bytes = readFileSync(path.join(SHARED, `${name}.e1381.txt`));
  const decoded = decodeAstmCapture(bytes);
  const parsed = parseAstmMessages(decoded.text);
  if (!parsed.ok) assert.fail(`${name}: ${parsed.error.message}`);
  return { bytes, decoded, messages: parsed.value };
}

/** Expected content per capture: frames, R count, first result, sender. */
const CAPTURES: Record<string, { frames: number; results: number; first: [string, string, string]; sender: string }> = {
  'abbott-afinion2': { frames: 1, results: 1, first: ['HbA1c', '5.9', '%'], sender: 'Afinion 2 Analyzer' },
  'abbott-architect': { frames: 1, results: 3, first: ['0021', '< 1.20', 'mIU/mL'], sender: 'ARCHITECT' },
  'biomerieux-minividas-mock': { frames: 5, results: 1, first: ['HBCT', '0.05', ''], sender: 'miniVidas' },
  'horiba-yumizen-h500-qc': { frames: 31, results: 21, first: ['MCV', '90.6', 'um3'], sender: 'H500' },
  'roche-cobas-c111': { frames: 7, results: 1, first: ['413', '40.13', 'g/L'], sender: 'SENAITE' },
  'roche-cobas-c311-a': { frames: 1, results: 7, first: ['685/', '22.4', 'U/l'], sender: 'c311' },
  'siemens-dca-vantage': { frames: 1, results: 3, first: ['Alb', '63.7', 'mg/L'], sender: 'DCA VANTAGE' },
  'spotchem-el-mock': { frames: 6, results: 3, first: ['Na', '131.0', 'mmol/L'], sender: 'SE-1520' },
  'sysmex-xn550': { frames: 1, results: 41, first: ['WBC', '8.13', '10*3/uL'], sender: 'XN-550' },
  'sysmex-xp100': { frames: 1, results: 20, first: ['WBC', '5.5', '10*3/uL'], sender: 'XP-100' },
};

test('every E1381 capture is covered by an expectation', { skip: gplSkip }, () => {
  const names = readdirSync(SHARED)
    .filter((f) => f.endsWith('.e1381.txt'))
    .map((f) => f.replace('.e1381.txt', ''));
  assert.deepEqual(names.sort(), [...Object.keys(CAPTURES), 'roche-cobas-c311-b'].sort());
});

test('E1381 captures: checksums verify, frames reassemble, records parse to the expected results', {
  skip: gplSkip,
}, () => {
  for (const [name, want] of Object.entries(CAPTURES)) {
    const { decoded, messages } = capture(name);
    assert.deepEqual(decoded.errors, [], name);
    assert.equal(decoded.frames.length, want.frames, name);
    assert.equal(messages.length, 1, name);
    const m = messages[0]!;
    assert.ok(m.terminated, `${name} ends with L`);
    assert.equal(m.header.senderName, want.sender, name);
    const results = m.results();
    assert.equal(results.length, want.results, name);
    const r = results[0]!.result;
    assert.deepEqual([r.testId.code, r.value, r.units], want.first, name);
  }
});

test('capture details: long single frames, ETB habits, flags, comments, QC and patient data', { skip: gplSkip }, () => {
  assert.ok(capture('roche-cobas-c311-a').decoded.frames[0]!.text.length > 240, 'one frame above the 240 limit');
  assert.deepEqual(
    capture('roche-cobas-c111').decoded.frames.map((f) => f.final),
    [false, false, false, false, false, false, true],
    'c111 uses ETB for every frame but the last',
  );
  const architect = capture('abbott-architect').messages[0]!.results();
  assert.deepEqual(architect[0]!.result.abnormalFlags, ['EXP', '<']);
  assert.deepEqual(
    architect.map((x) => x.result.value),
    ['< 1.20', 'NEGATIVE', '9245'],
  );
  assert.deepEqual(
    architect[0]!.comments.map((c) => c.text),
    ['Example Result Comment'],
  );
  assert.equal(architect[0]!.patient?.patientId, 'PIDSID13');
  assert.equal(architect[0]!.order?.specimenId, 'SID13');
  const yumizen = capture('horiba-yumizen-h500-qc').messages[0]!;
  assert.equal(yumizen.header.processingId, 'Q');
  assert.equal(yumizen.all('M').length, 4);
  assert.equal(readAstmComment(yumizen.all('C')[0]!).text, 'CONTROL_FAILED PLT_ABOVE_TOLERANCE');
  const xn = capture('sysmex-xn550').messages[0]!;
  assert.deepEqual(xn.results()[0]!.patient?.name, ['', 'Jim', 'Brown']);
  assert.equal(xn.results()[0]!.order?.tests.length, 23, 'repeat delimiter in O-5');
  assert.equal(capture('sysmex-xp100').messages[0]!.results()[0]!.result.status, '', 'XP-100 sends no result status');
  assert.deepEqual(capture('spotchem-el-mock').messages[0]!.delimiters, {
    field: '|',
    repeat: '\\',
    component: '^',
    escape: '&',
  });
  const vidas = capture('biomerieux-minividas-mock').messages[0]!.results()[0]!.result;
  assert.equal(vidas.status, 'Positif', 'the mock puts the interpretation in R-9');
  assert.equal(vidas.completedDateTime, '20241025183500');
});

test('roche-cobas-c311-b: checksum mismatch (stated 49, computed 89) → no frame, receiver NAKs', {
  skip: gplSkip,
}, () => {
  const bytes = readFileSync(path.join(SHARED, 'roche-cobas-c311-b.e1381.txt'));
  const decoded = decodeAstmCapture(bytes);
  assert.equal(decoded.frames.length, 0);
  assert.equal(decoded.errors[0]?.code, 'bad-checksum');
  assert.match(decoded.errors[0]!.message, /received 49, computed 89/);
  const out = new AstmReceiver().receive(Buffer.concat([Buffer.of(ENQ), bytes, Buffer.of(EOT)]));
  assert.deepEqual([...out.send], [0x06, 0x15]);
  assert.equal(out.messages.length, 0);
});

test('property: the receiver yields the same message for any chunking of each capture', { skip: gplSkip }, () => {
  const rnd = prng(2024);
  for (const name of Object.keys(CAPTURES)) {
    const { bytes, decoded } = capture(name);
    const stream = Buffer.concat([Buffer.of(ENQ), bytes, Buffer.of(EOT)]);
    // Yumizen restarts frame numbering inside the message: only a lenient receiver accepts it.
    const frameNumbers = name.startsWith('horiba') ? 'lenient' : 'strict';
    for (let run = 0; run < 40; run++) {
      const rx = new AstmReceiver({ frameNumbers });
      const got: string[] = [];
      const send: number[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = 1 + Math.floor(rnd() * (rnd() < 0.3 ? 5 : 700));
        const out = rx.receive(stream.subarray(at, at + n));
        got.push(...out.messages.map((m) => m.bytes.toString('latin1')));
        send.push(...out.send);
        at += n;
      }
      assert.deepEqual(got, [decoded.text.toString('latin1')], name);
      assert.ok(
        send.every((b) => b === 0x06),
        name,
      );
    }
  }
  const strict = new AstmReceiver().receive(
    Buffer.concat([Buffer.of(ENQ), readFileSync(path.join(SHARED, 'horiba-yumizen-h500-qc.e1381.txt'))]),
  );
  assert.equal(strict.send[6], 0x15, 'strict receiver NAKs the restarted frame number');
});

test('MIT transcripts: records, escapes, repeats and an order round-trip through frames', () => {
  const read = (f: string) => readFileSync(path.join(FIXTURES, f));
  const esc = parseAstmRecords(read('astm-escape-sequences.txt'));
  assert.ok(esc.ok);
  assert.deepEqual(
    esc.value.map((r) => r.get(5)),
    ['Type | Screen', 'Type \\ Screen', 'Type ^ Screen', 'Type & Screen'],
  );
  const rep = parseAstmRecords(read('astm-repeat-fields.txt'));
  assert.ok(rep.ok);
  assert.deepEqual(rep.value[0]!.repetitions(3), [['SID102'], ['SID103']]);
  assert.deepEqual(rep.value[0]!.repetitions(16), [['PACKEDCELLS'], ['PLASMA']]);
  const minimal = parseAstmMessages(read('astm-minimal-order.txt'));
  assert.ok(minimal.ok && minimal.value[0]!.records.map((r) => r.type).join('') === 'HPOL');
  const ortho = parseAstmMessages(read('ortho-vision-bloodbank.txt'));
  assert.ok(ortho.ok);
  const o = ortho.value[0]!;
  assert.equal(o.header.senderName, 'OCD');
  assert.deepEqual(
    o.results().map((r) => [r.result.testId.code, r.result.value, r.patient?.practicePatientId]),
    [
      ['ABO', 'A', 'PID123456'],
      ['Rh', 'NEG', 'PID123456'],
    ],
  );
  const phadia = parseAstmMessages(read('phadia-prime-sige.txt'));
  assert.ok(phadia.ok);
  assert.deepEqual(
    phadia.value[0]!.results().map((r) => [r.result.testId.code, r.result.value, r.comments.length]),
    [
      ['t2', '9.34', 1],
      ['t3', 'Examine', 1],
      ['a-IgE', '199', 1],
    ],
  );
  // Re-frame each transcript and send it through the receiver: the same text comes out.
  for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.txt'))) {
    const text = read(f).toString('latin1');
    const records = text.split('\r').filter((r) => r !== '');
    const out = new AstmReceiver().receive(
      Buffer.concat([Buffer.of(ENQ), ...encodeAstmFrames(records), Buffer.of(EOT)]),
    );
    assert.deepEqual(
      out.messages.map((m) => m.bytes.toString('latin1')),
      [`${records.join('\r')}\r`],
      f,
    );
  }
});
