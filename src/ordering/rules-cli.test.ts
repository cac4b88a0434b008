import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { CLI } from '../../test/support/cli.ts';
import { SEED_RULE_SET } from '../core/ordering/seed/rule-set.ts';

it('dxhub rules <file> accepts the seed set and names every problem of a bad one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-rules-'));
  const good = join(dir, 'good.json');
  const bad = join(dir, 'bad.json');
  writeFileSync(good, JSON.stringify(SEED_RULE_SET));
  writeFileSync(
    bad,
    JSON.stringify({ ...SEED_RULE_SET, rules: [{ ...SEED_RULE_SET.rules[0], tests: ['nope'], source: {} }] }),
  );
  const ok = spawnSync(process.execPath, [CLI, 'rules', good], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /is valid \(\d+ rules\)/);
  const no = spawnSync(process.execPath, [CLI, 'rules', bad], { encoding: 'utf8' });
  assert.equal(no.status, 1);
  assert.match(no.stdout, /unknown test 'nope'/);
  assert.match(no.stdout, /source.label \(the citation\) is required/);
  const missing = spawnSync(process.execPath, [CLI, 'rules', join(dir, 'absent.json')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /absent.json: not a readable JSON file/);
});
