import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Client, type FhirResource } from 'fhir-kit-client';
import { buildTestApp } from './support/app.ts';
import { freshDbUrl, testDialects } from './support/dialects.ts';
import { CPR_SYSTEM, LOINC, observation, patient } from './support/factories.ts';

/**
 * Interoperability: an independent FHIR client from npm (fhir-kit-client) against a really
 * listening dxhub, on every dialect. It checks what dxhub's own tests cannot: that the wire
 * format, headers and URLs are what a third-party client expects.
 */

type Json = FhirResource & Record<string, unknown>;
interface Bundle extends FhirResource {
  resourceType: 'Bundle';
  type: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: { resource?: Json; response?: { status: string; location?: string } }[];
}

/** The HTTP status of a failed fhir-kit-client call (it rejects with `{ response: { status } }`). */
async function rejectsWith(p: Promise<unknown>, status: number): Promise<void> {
  await assert.rejects(p, (e: { response?: { status?: number; data?: { resourceType?: string } } }) => {
    assert.equal(e.response?.status, status);
    assert.equal(e.response?.data?.resourceType, 'OperationOutcome');
    return true;
  });
}

async function withServer(dialect: 'sqlite' | 'postgres', fn: (client: Client) => Promise<void>): Promise<void> {
  const built = await buildTestApp({ db: freshDbUrl(dialect) });
  try {
    await built.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = built.app.server.address() as AddressInfo;
    const bearerToken = (await built.bearer()).slice('Bearer '.length);
    await fn(new Client({ baseUrl: `http://127.0.0.1:${port}/fhir`, bearerToken }));
  } finally {
    await built.close();
  }
}

const dialects = await testDialects();

for (const dialect of dialects) {
  describe(`fhir-kit-client against a listening dxhub on ${dialect}`, () => {
    it('reads the CapabilityStatement', () =>
      withServer(dialect, async (client) => {
        const cs = (await client.capabilityStatement()) as Json;
        assert.equal(cs.resourceType, 'CapabilityStatement');
        assert.equal(cs.fhirVersion, '4.0.1');
      }));

    it('create, read, vread, update, patch, history and delete', () =>
      withServer(dialect, async (client) => {
        const created = (await client.create({ resourceType: 'Patient', body: patient() })) as Json;
        assert.equal(created.resourceType, 'Patient');
        const id = created.id as string;
        assert.ok(id);
        assert.equal((created.meta as { versionId: string }).versionId, '1');

        const read = (await client.read({ resourceType: 'Patient', id })) as Json;
        assert.deepEqual(read, created);

        const updated = (await client.update({
          resourceType: 'Patient',
          id,
          body: { ...read, gender: 'female' },
        })) as Json;
        assert.equal(updated.gender, 'female');
        assert.equal((updated.meta as { versionId: string }).versionId, '2');

        const patched = (await client.patch({
          resourceType: 'Patient',
          id,
          jsonPatch: [{ op: 'replace', path: '/gender', value: 'other' }],
        })) as Json;
        assert.equal(patched.gender, 'other');

        const v1 = (await client.vread({ resourceType: 'Patient', id, version: '1' })) as Json;
        assert.equal(v1.gender, 'male');
        const hist = (await client.resourceHistory({ resourceType: 'Patient', id })) as unknown as Bundle;
        assert.equal(hist.type, 'history');
        assert.equal(hist.entry?.length, 3);

        const outcome = (await client.delete({ resourceType: 'Patient', id })) as Json;
        assert.equal(outcome.resourceType, 'OperationOutcome');
        await rejectsWith(client.read({ resourceType: 'Patient', id }), 410);
        await rejectsWith(client.read({ resourceType: 'Patient', id: 'missing' }), 404);
        await rejectsWith(
          client.create({ resourceType: 'Observation', body: { ...observation(), status: 'done' } }),
          400,
        );
      }));

    it('searches with the client helpers and pages with nextPage', () =>
      withServer(dialect, async (client) => {
        const pat = (await client.create({
          resourceType: 'Patient',
          body: patient({ identifier: [{ system: CPR_SYSTEM, value: '0201919990' }] }),
        })) as Json;
        for (let i = 0; i < 5; i++) {
          await client.create({
            resourceType: 'Observation',
            body: observation({ subject: `Patient/${pat.id}`, value: 5 + i }),
          });
        }
        await client.create({ resourceType: 'Observation', body: observation({ code: '2345-7' }) });

        const hb = (await client.search({
          resourceType: 'Observation',
          searchParams: { code: `${LOINC}|718-7`, _count: '2', _total: 'accurate' },
        })) as unknown as Bundle;
        assert.equal(hb.type, 'searchset');
        assert.equal(hb.total, 5);
        assert.equal(hb.entry?.length, 2);
        const seen = new Set(hb.entry!.map((e) => e.resource!.id));
        let page: Bundle | undefined = hb;
        while (page) {
          const next = client.nextPage({ bundle: page as Bundle & { link: { relation: string; url: string }[] } });
          page = next ? ((await next) as unknown as Bundle) : undefined;
          for (const e of page?.entry ?? []) seen.add(e.resource!.id);
        }
        assert.equal(seen.size, 5);

        const chained = (await client.resourceSearch({
          resourceType: 'Observation',
          searchParams: { 'subject:Patient.identifier': `${CPR_SYSTEM}|0201919990`, 'value-quantity': 'ge7' },
        })) as unknown as Bundle;
        assert.equal(chained.entry?.length, 3);

        const compartment = (await client
          .compartmentSearch({
            resourceType: 'Observation',
            compartment: { resourceType: 'Patient', id: pat.id as string },
            searchParams: { code: `${LOINC}|718-7` },
          })
          .catch((e: { response?: { status?: number } }) => e.response?.status)) as unknown;
        // Compartment search is not offered (CapabilityStatement has no compartments): a clean 404.
        assert.equal(compartment, 404);

        const conditional = (await client.update({
          resourceType: 'Observation',
          searchParams: { identifier: 'urn:dxhub:lab|kit-1' },
          body: observation({ identifier: [{ system: 'urn:dxhub:lab', value: 'kit-1' }], value: 1 }),
        })) as Json;
        const again = (await client.update({
          resourceType: 'Observation',
          searchParams: { identifier: 'urn:dxhub:lab|kit-1' },
          body: observation({ identifier: [{ system: 'urn:dxhub:lab', value: 'kit-1' }], value: 2 }),
        })) as Json;
        assert.equal(again.id, conditional.id);
        assert.equal((again.meta as { versionId: string }).versionId, '2');

        const system = (await client.resourceSearch({
          resourceType: 'Patient',
          searchParams: { identifier: `${CPR_SYSTEM}|0201919990` },
        })) as unknown as Bundle;
        assert.deepEqual(
          system.entry?.map((e) => e.resource!.id),
          [pat.id],
        );
      }));

    it('posts a transaction Bundle with urn:uuid references', () =>
      withServer(dialect, async (client) => {
        const patUrl = 'urn:uuid:7d7a2c8e-5b0e-4a8e-9f43-0f3a6d1c0001';
        const obsUrl = 'urn:uuid:7d7a2c8e-5b0e-4a8e-9f43-0f3a6d1c0002';
        const resp = (await client.transaction({
          body: {
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [
              { fullUrl: patUrl, resource: patient(), request: { method: 'POST', url: 'Patient' } },
              {
                fullUrl: obsUrl,
                resource: { ...observation(), subject: { reference: patUrl } },
                request: { method: 'POST', url: 'Observation' },
              },
            ],
          },
        })) as unknown as Bundle;
        assert.equal(resp.type, 'transaction-response');
        assert.deepEqual(
          resp.entry?.map((e) => e.response?.status),
          ['201 Created', '201 Created'],
        );
        const patRef = resp.entry![0]!.response!.location!.split('/_history')[0]!;
        const [type, id] = resp.entry![1]!.response!.location!.split('/') as [string, string];
        const o = (await client.read({ resourceType: type, id })) as Json;
        assert.deepEqual(o.subject, { reference: patRef });

        const batch = (await client.batch({
          body: {
            resourceType: 'Bundle',
            type: 'batch',
            entry: [
              { request: { method: 'GET', url: patRef } },
              { request: { method: 'GET', url: 'Patient/does-not-exist' } },
            ],
          },
        })) as unknown as Bundle;
        assert.deepEqual(
          batch.entry?.map((e) => e.response?.status),
          ['200 OK', '404'],
        );
      }));
  });
}
