import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HL7_DELIMITERS, hl7DelimitersFrom } from './hl7-delimiters.ts';
import { escapeHl7, unescapeHl7 } from './hl7-escape.ts';

const d = DEFAULT_HL7_DELIMITERS;

test('delimiter escapes decode to the declared characters (ch. 2, escape sequences)', () => {
  assert.equal(unescapeHl7('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f', d), 'a|b^c&d~e\\f');
  // The research note's test value (integration.md §7.3).
  assert.equal(
    unescapeHl7('Specimen slightly hemolyzed \\T\\ re-run \\S\\ verified \\F\\tech 42\\F\\ \\R\\ path \\E\\lab', d),
    'Specimen slightly hemolyzed & re-run ^ verified |tech 42| ~ path \\lab',
  );
});

test('custom delimiters: escapes map to whatever MSH-2 declared', () => {
  const custom = hl7DelimitersFrom('!', '@#$%');
  assert.ok(custom.ok);
  assert.equal(unescapeHl7('x$F$y$S$z$T$w$R$v$E$', custom.value), 'x!y@z%w#v$');
  assert.equal(escapeHl7('x!y@z%w#v$', custom.value), 'x$F$y$S$z$T$w$R$v$E$');
});

test('hex escapes decode bytes in the message character set', () => {
  assert.equal(unescapeHl7('CR LF \\X0D0A\\ end', d), 'CR LF \r\n end');
  assert.equal(unescapeHl7('M\\XC3BC\\ller', d, { charset: 'utf-8' }), 'Müller');
  assert.equal(unescapeHl7('M\\XFC\\ller', d, { charset: 'latin1' }), 'Müller');
  assert.equal(unescapeHl7('bad \\XZZ\\ hex', d), 'bad \\XZZ\\ hex');
});

test('formatting: \\.br\\ is a line break, highlighting is dropped, keep mode leaves commands', () => {
  assert.equal(unescapeHl7('one\\.br\\two \\H\\bold\\N\\', d), 'one\ntwo bold');
  assert.equal(unescapeHl7('a\\.sp2\\b\\.sk3\\c\\.in4\\d', d), 'a\n\nb   cd');
  assert.equal(unescapeHl7('one\\.br\\two', d, { formatting: 'keep' }), 'one\\.br\\two');
});

test('unknown, local and unterminated sequences are kept verbatim', () => {
  assert.equal(unescapeHl7('\\Zlocal\\ x', d), '\\Zlocal\\ x');
  assert.equal(unescapeHl7('trailing \\', d), 'trailing \\');
  assert.equal(unescapeHl7('charset \\C2842\\switch', d), 'charset switch');
});

test('escape then unescape round-trips any text, newlines included', () => {
  const samples = ['plain', 'a|b^c~d\\e&f', '\\F\\ literal', 'line1\nline2\r\nline3', ''];
  for (const s of samples) assert.equal(unescapeHl7(escapeHl7(s, d), d), s.replace(/\r\n/g, '\r\n'));
  assert.equal(escapeHl7('a\nb', d, { newline: 'br' }), 'a\\.br\\b');
});

test('MSH-2 validation: missing, duplicate or alphanumeric encoding characters are rejected', () => {
  assert.deepEqual(hl7DelimitersFrom('|', ''), { ok: false, error: 'missing' });
  assert.deepEqual(hl7DelimitersFrom('|', '^^\\&'), { ok: false, error: 'invalid' });
  assert.deepEqual(hl7DelimitersFrom('|', '^~A&'), { ok: false, error: 'invalid' });
  const withTruncation = hl7DelimitersFrom('|', '^~\\&#');
  assert.ok(withTruncation.ok && withTruncation.value.truncation === '#');
});
