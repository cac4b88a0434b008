import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { D_ECPR_SYSTEM, parseReplacementCpr } from '../core/identity/index.ts';
import { type Dialect, openDialect } from '../store/dialect/dialect.ts';
import { migrate } from '../store/migrations/index.ts';
import { type EcprRegister, RegisterError } from './ecpr-register.ts';
import { ecprRegisterHandler } from './ecpr-register-http-handler.ts';
import { EmbeddedEcprRegister } from './embedded-ecpr-register.ts';
import { HttpEcprRegister } from './http-ecpr-register.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const clock = { now: () => NOW };
const isError = (code: RegisterError['code']) => (e: unknown) => e instanceof RegisterError && e.code === code;

/** The contract every replacement-CPR register passes (embedded and over HTTP, on each database). */
function contract(name: string, make: () => Promise<{ register: EcprRegister; close: () => Promise<void> }>) {
  describe(name, () => {
    let register: EcprRegister;
    let close: () => Promise<void>;
    before(async () => {
      ({ register, close } = await make());
    });
    after(async () => close());

    test('issues a D-eCPR from the real birth date and sex, in the region’s system', async () => {
      const r = await register.issue({ birthDate: '1990-03-15', sex: 'female' });
      assert.equal(r.kind, 'd-ecpr');
      assert.equal(r.system, `${D_ECPR_SYSTEM}.183`);
      assert.equal(r.dateBasis, 'birth-date');
      assert.equal(r.value.slice(0, 6), '150390');
      const parsed = parseReplacementCpr(r.value);
      assert.ok(parsed.ok);
      assert.equal(parsed.kind, 'd-ecpr');
      assert.equal(parsed.sexHint, 'female');
      assert.deepEqual(await register.lookup(r.value), r);
    });

    test('uses the creation date when the birth date is unknown', async () => {
      const r = await register.issue({ sex: 'unknown' });
      assert.equal(r.dateBasis, 'creation-date');
      assert.equal(r.value.slice(0, 6), '291126');
    });

    test('concurrent requests for the same person facts get distinct numbers', async () => {
      const rs = await Promise.all(
        Array.from({ length: 40 }, () => register.issue({ birthDate: '2001-07-04', sex: 'male' })),
      );
      assert.equal(new Set(rs.map((r) => r.value)).size, 40);
    });

    test('links to the real CPR once; a second CPR is a conflict', async () => {
      const r = await register.issue({ birthDate: '1975-12-01', sex: 'male' });
      const linked = await register.link(r.value, '011275-1237');
      assert.equal(linked.linkedCpr, '0112751237');
      assert.equal(linked.linkedAt, NOW);
      assert.equal((await register.link(r.value, '0112751237')).linkedCpr, '0112751237');
      await assert.rejects(register.link(r.value, '020275-1234'), isError('conflict'));
    });

    test('bad input is refused with the reason', async () => {
      assert.equal(await register.lookup('010190-0AB1'), undefined);
      await assert.rejects(register.lookup('0101901234'), isError('invalid'));
      await assert.rejects(register.link('010190-0AB1', '0101901234'), isError('not-found'));
      const r = await register.issue({ birthDate: '1980-01-02', sex: 'female' });
      await assert.rejects(register.link(r.value, '310299-1234'), isError('invalid'));
      await assert.rejects(register.link(r.value, '01019A1234'), isError('invalid'));
      await assert.rejects(register.issue({ birthDate: '2023-02-29', sex: 'male' }), isError('invalid'));
    });
  });
}

for (const dialect of await testDialects()) {
  const embedded = async (): Promise<{ db: Dialect; register: EmbeddedEcprRegister }> => {
    const db = await openDialect(freshDbUrl(dialect));
    await migrate(db);
    return { db, register: new EmbeddedEcprRegister(db, { region: 'syddanmark', clock }) };
  };

  contract(`embedded eCPR register on ${dialect}`, async () => {
    const { db, register } = await embedded();
    return { register, close: () => db.close() };
  });

  contract(`HTTP eCPR register adapter against a register server on loopback (${dialect})`, async () => {
    const { db, register } = await embedded();
    const server: Server = createServer(ecprRegisterHandler(register));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      register: new HttpEcprRegister(`http://127.0.0.1:${port}`),
      close: async () => {
        await new Promise((resolve) => server.close(resolve));
        await db.close();
      },
    };
  });
}

test('an unreachable external register is reported as unavailable', async () => {
  const r = new HttpEcprRegister('http://127.0.0.1:9', { timeoutMs: 500 });
  await assert.rejects(r.issue({ sex: 'male' }), isError('unavailable'));
});
