import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp, type TestApp as DxhubApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { CPR_SYSTEM, LOINC, NPU, observation, patient, UCUM } from '../../test/support/factories.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { type Clock, FhirRepository, type Resource } from '../store/repository.ts';

/**
 * The FHIR REST API over HTTP (in-process with `app.inject()`), on every dialect of
 * `testDialects()`. Each test builds its own app on a fresh database and closes it.
 */

type Dialect = 'sqlite' | 'postgres';

interface Issue {
  severity: string;
  code: string;
  diagnostics?: string;
  expression?: string[];
}
interface Outcome {
  resourceType: 'OperationOutcome';
  issue: Issue[];
}
interface BundleEntry {
  fullUrl?: string;
  resource?: Resource;
  search?: { mode: string };
  request?: { method: string; url: string };
  response?: { status: string; location?: string; etag?: string; lastModified?: string; outcome?: Outcome };
}
interface Bundle {
  resourceType: 'Bundle';
  type: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: BundleEntry[];
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json<T = Resource>(): T;
}

const FHIR_JSON = 'application/fhir+json';
const LAB_IDS = 'urn:dxhub:lab-observation';

/** A test's view of one app: HTTP helpers that assert the common things. */
class Http {
  readonly built: DxhubApp;
  /** The app's clock when the test controls time. */
  readonly clock: ManualClock | undefined;
  constructor(built: DxhubApp, clock?: ManualClock) {
    this.built = built;
    this.clock = clock;
  }

  async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
    const hasBody = body !== undefined;
    const r = await this.built.app.inject({
      method: method as 'GET',
      url,
      headers: hasBody ? { 'content-type': FHIR_JSON, ...headers } : headers,
      ...(hasBody ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    assert.ok(r.statusCode < 500, `${method} ${url} answered ${r.statusCode}: ${r.body}`);
    return {
      status: r.statusCode,
      headers: r.headers,
      body: r.body,
      json<T>() {
        return JSON.parse(r.body) as T;
      },
    };
  }
  get(url: string, headers?: Record<string, string>) {
    return this.request('GET', url, undefined, headers);
  }
  post(url: string, body: unknown, headers?: Record<string, string>) {
    return this.request('POST', url, body, headers);
  }
  put(url: string, body: unknown, headers?: Record<string, string>) {
    return this.request('PUT', url, body, headers);
  }
  patch(url: string, body: unknown, headers?: Record<string, string>) {
    return this.request('PATCH', url, body, { 'content-type': 'application/json-patch+json', ...headers });
  }
  delete(url: string, headers?: Record<string, string>) {
    return this.request('DELETE', url, undefined, headers);
  }

  /** POSTs a resource and returns what was stored (asserting 201). */
  async create(resource: Resource): Promise<Resource> {
    const r = await this.post(`/fhir/${resource.resourceType}`, resource);
    assert.equal(r.status, 201, r.body);
    return r.json();
  }

  /** PUTs resources with client-assigned ids (asserting 201 each). */
  async seed(...resources: Resource[]): Promise<void> {
    for (const res of resources) {
      const r = await this.put(`/fhir/${res.resourceType}/${res.id}`, res);
      assert.equal(r.status, 201, r.body);
    }
  }

  /** A search that must succeed: the Bundle. */
  async search(query: string, headers?: Record<string, string>): Promise<Bundle> {
    const r = await this.get(`/fhir/${query}`, headers);
    assert.equal(r.status, 200, `${query}: ${r.body}`);
    const b = r.json<Bundle>();
    assert.equal(b.resourceType, 'Bundle');
    assert.equal(b.type, 'searchset');
    return b;
  }

  /** The ids of the matches of a search, sorted unless the order is what is tested. */
  async ids(query: string, opts: { ordered?: boolean } = {}): Promise<string[]> {
    const ids = matchIds(await this.search(query));
    return opts.ordered ? ids : ids.sort();
  }
}

function matchIds(b: Bundle): string[] {
  return (b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!.id!);
}

/** Path and query of an absolute link, for following it with inject. */
function rel(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

function link(b: Bundle, relation: string): string | undefined {
  return b.link?.find((l) => l.relation === relation)?.url;
}

/** Asserts an error answer: the status and an OperationOutcome body with an error issue. */
function expectOutcome(r: Res, status: number, want: { diagnostics?: RegExp; expression?: string } = {}): Outcome {
  assert.equal(r.status, status, r.body);
  assert.match(String(r.headers['content-type']), /^application\/fhir\+json/);
  const oo = r.json<Outcome>();
  assert.equal(oo.resourceType, 'OperationOutcome', r.body);
  assert.ok(oo.issue.length > 0);
  assert.ok(
    oo.issue.some((i) => i.severity === 'error' || i.severity === 'fatal'),
    r.body,
  );
  if (want.diagnostics)
    assert.ok(
      oo.issue.some((i) => want.diagnostics!.test(i.diagnostics ?? '')),
      r.body,
    );
  if (want.expression)
    assert.ok(
      oo.issue.some((i) => i.expression?.includes(want.expression!)),
      r.body,
    );
  return oo;
}

type ManualClock = Clock & { set(iso: string): void };

/** A clock the test moves by hand. */
function manualClock(iso: string): ManualClock {
  let t = Date.parse(iso);
  return {
    now: () => t,
    set(next: string) {
      t = Date.parse(next);
    },
  };
}

async function withApp(
  dialect: Dialect,
  fn: (h: Http) => Promise<void>,
  opts: { bodyLimit?: number; clock?: ManualClock } = {},
): Promise<void> {
  const config = { db: freshDbUrl(dialect), ...(opts.bodyLimit ? { bodyLimit: opts.bodyLimit } : {}) };
  const repo = opts.clock ? await FhirRepository.open(await openDialect(config.db), opts.clock) : undefined;
  const built = await buildTestApp(config, repo ? { repo } : {});
  try {
    await fn(new Http(built, opts.clock));
  } finally {
    await built.close();
  }
}

const obs = (id: string, over: Parameters<typeof observation>[0] = {}): Resource => ({ ...observation(over), id });
const labId = (value: string) => [{ system: LAB_IDS, value }];

const dialects = await testDialects();

for (const dialect of dialects) {
  const test = (
    name: string,
    fn: (h: Http) => Promise<void>,
    opts: { bodyLimit?: number; clock?: () => ManualClock; todo?: string } = {},
  ) => it(name, { todo: opts.todo }, () => withApp(dialect, fn, { bodyLimit: opts.bodyLimit, clock: opts.clock?.() }));

  describe(`FHIR REST interactions on ${dialect}`, () => {
    test('create answers 201 with Location, ETag W/"1" and meta', async (h) => {
      const r = await h.post('/fhir/Observation', observation());
      assert.equal(r.status, 201, r.body);
      assert.match(String(r.headers['content-type']), /^application\/fhir\+json/);
      const body = r.json();
      assert.match(body.id!, /^[A-Za-z0-9\-.]{1,64}$/);
      assert.equal(r.headers.etag, 'W/"1"');
      assert.equal(r.headers.location, `http://localhost:80/fhir/Observation/${body.id}/_history/1`);
      assert.ok(r.headers['last-modified']);
      const meta = body.meta as { versionId: string; lastUpdated: string };
      assert.equal(meta.versionId, '1');
      assert.ok(!Number.isNaN(Date.parse(meta.lastUpdated)));
      assert.equal(new Date(meta.lastUpdated).toISOString(), meta.lastUpdated);
      assert.equal(body.status, 'final');
    });

    test('create ignores a client id in the body', async (h) => {
      const created = await h.create({ ...patient(), id: 'chosen-by-client' });
      assert.notEqual(created.id, 'chosen-by-client');
    });

    test('read and vread return the stored version; unknown ids and versions are 404', async (h) => {
      const created = await h.create(patient());
      const read = await h.get(`/fhir/Patient/${created.id}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.json(), created);
      assert.equal(read.headers.etag, 'W/"1"');
      const vread = await h.get(`/fhir/Patient/${created.id}/_history/1`);
      assert.equal(vread.status, 200);
      assert.deepEqual(vread.json(), created);
      expectOutcome(await h.get('/fhir/Patient/no-such-id'), 404, { diagnostics: /Patient\/no-such-id/ });
      expectOutcome(await h.get(`/fhir/Patient/${created.id}/_history/2`), 404);
      expectOutcome(await h.get(`/fhir/Patient/${created.id}/_history/x`), 404);
    });

    test('PUT with a client-assigned id creates (201), a change makes version 2 (200)', async (h) => {
      const first = await h.put('/fhir/Patient/pat-1', { ...patient(), id: 'pat-1' });
      assert.equal(first.status, 201, first.body);
      assert.equal(first.headers.etag, 'W/"1"');
      assert.equal(first.json().id, 'pat-1');
      const second = await h.put('/fhir/Patient/pat-1', { ...patient(), id: 'pat-1', gender: 'female' });
      assert.equal(second.status, 200, second.body);
      assert.equal(second.headers.etag, 'W/"2"');
      assert.equal(second.headers.location, 'http://localhost:80/fhir/Patient/pat-1/_history/2');
      assert.equal((second.json().meta as { versionId: string }).versionId, '2');
      assert.equal(second.json().gender, 'female');
      assert.equal((await h.get('/fhir/Patient/pat-1')).json().gender, 'female');
      assert.equal((await h.get('/fhir/Patient/pat-1/_history/1')).json().gender, 'male');
    });

    test('If-Match: a stale version is 412, the current one 200', async (h) => {
      const p = { ...patient(), id: 'pat-m' };
      await h.seed(p);
      assert.equal((await h.put('/fhir/Patient/pat-m', { ...p, gender: 'female' })).status, 200);
      expectOutcome(await h.put('/fhir/Patient/pat-m', { ...p, gender: 'other' }, { 'if-match': 'W/"1"' }), 412, {
        diagnostics: /version/,
      });
      assert.equal((await h.get('/fhir/Patient/pat-m')).json().gender, 'female');
      const ok = await h.put('/fhir/Patient/pat-m', { ...p, gender: 'other' }, { 'if-match': 'W/"2"' });
      assert.equal(ok.status, 200, ok.body);
      assert.equal(ok.headers.etag, 'W/"3"');
      expectOutcome(await h.put('/fhir/Patient/pat-m', p, { 'if-match': 'banana' }), 400);
      expectOutcome(await h.delete('/fhir/Patient/pat-m', { 'if-match': 'W/"1"' }), 412);
      assert.equal((await h.get('/fhir/Patient/pat-m')).status, 200);
    });

    test('conditional create (If-None-Exist) returns the existing resource without a duplicate', async (h) => {
      // A hospital record number: not a unique person identifier, so a second record can exist.
      const MRN = 'urn:oid:1.2.208.176.7.1.10.99';
      const body = patient({ identifier: [{ system: MRN, value: 'mrn-42' }] });
      const cond = { 'if-none-exist': `identifier=${MRN}|mrn-42` };
      const first = await h.post('/fhir/Patient', body, cond);
      assert.equal(first.status, 201, first.body);
      const second = await h.post('/fhir/Patient', body, cond);
      assert.equal(second.status, 200, second.body);
      assert.equal(second.json().id, first.json().id);
      assert.equal(second.headers.etag, 'W/"1"');
      assert.deepEqual(await h.ids(`Patient?identifier=${MRN}|mrn-42`), [first.json().id]);
      // Two matches: the precondition fails (R4 §3.1.0.8).
      await h.create(patient({ identifier: [{ system: MRN, value: 'mrn-42' }] }));
      expectOutcome(await h.post('/fhir/Patient', body, cond), 412);
    });

    test('concurrent If-None-Exist creates make one resource; concurrent If-Match updates let one win', async (h) => {
      const body = patient({ identifier: [{ system: CPR_SYSTEM, value: '0201919990' }] });
      const cond = { 'if-none-exist': `identifier=${CPR_SYSTEM}|0201919990` };
      const creates = await Promise.all(Array.from({ length: 6 }, () => h.post('/fhir/Patient', body, cond)));
      assert.deepEqual(creates.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201]);
      assert.equal(new Set(creates.map((r) => r.json().id)).size, 1);
      assert.equal((await h.search(`Patient?identifier=${CPR_SYSTEM}|0201919990&_summary=count`)).total, 1);

      const id = creates[0]!.json().id!;
      // Every update differs from version 1 (an unchanged update is a no-op that would also succeed).
      const genders = ['female', 'other', 'unknown', 'female'];
      const updates = await Promise.all(
        genders.map((gender, i) =>
          h.put(`/fhir/Patient/${id}`, { ...body, id, gender, birthDate: `195${i}-01-01` }, { 'if-match': 'W/"1"' }),
        ),
      );
      assert.deepEqual(updates.map((r) => r.status).sort(), [200, 412, 412, 412]);
      for (const r of updates.filter((u) => u.status === 412)) expectOutcome(r, 412);
      assert.equal((await h.get(`/fhir/Patient/${id}`)).headers.etag, 'W/"2"');
    });

    test('conditional update: creates, then updates the one match; 412 when two match', async (h) => {
      const url = `/fhir/Observation?identifier=${LAB_IDS}|obs-1`;
      const first = await h.put(url, observation({ identifier: labId('obs-1'), value: 5 }));
      assert.equal(first.status, 201, first.body);
      const id = first.json().id;
      const second = await h.put(url, observation({ identifier: labId('obs-1'), value: 6 }));
      assert.equal(second.status, 200, second.body);
      assert.equal(second.json().id, id);
      assert.equal(second.headers.etag, 'W/"2"');
      assert.deepEqual((second.json().valueQuantity as { value: number }).value, 6);
      expectOutcome(await h.put(url, { ...observation({ identifier: labId('obs-1') }), id: 'other-id' }), 400, {
        expression: 'id',
      });
      await h.create(observation({ identifier: labId('obs-1') }));
      expectOutcome(await h.put(url, observation({ identifier: labId('obs-1'), value: 7 })), 412);
      assert.equal((await h.ids(`Observation?identifier=${LAB_IDS}|obs-1`)).length, 2);
    });

    test('delete: read is 410, the old version stays readable, history records the delete', async (h) => {
      const created = await h.create(patient());
      const del = await h.delete(`/fhir/Patient/${created.id}`);
      assert.equal(del.status, 200, del.body);
      assert.equal(del.json().resourceType, 'OperationOutcome');
      assert.equal(del.headers.etag, 'W/"2"');
      expectOutcome(await h.get(`/fhir/Patient/${created.id}`), 410, { diagnostics: /deleted/ });
      const old = await h.get(`/fhir/Patient/${created.id}/_history/1`);
      assert.equal(old.status, 200);
      assert.deepEqual(old.json(), created);
      const hist = (await h.get(`/fhir/Patient/${created.id}/_history`)).json<Bundle>();
      assert.equal(hist.type, 'history');
      assert.deepEqual(
        hist.entry!.map((e) => [e.request!.method, e.response!.status, e.response!.etag, e.resource === undefined]),
        [
          ['DELETE', '410 Gone', 'W/"2"', true],
          ['POST', '201 Created', 'W/"1"', false],
        ],
      );
      assert.deepEqual(await h.ids('Patient'), []);
      // Deleting again is a no-op; a PUT brings the resource back as version 3.
      assert.equal((await h.delete(`/fhir/Patient/${created.id}`)).status, 200);
      const back = await h.put(`/fhir/Patient/${created.id}`, { ...patient(), id: created.id });
      assert.equal(back.status, 201, back.body);
      assert.equal(back.headers.etag, 'W/"3"');
    });

    test('conditional delete removes the single match', async (h) => {
      const a = await h.create(observation({ identifier: labId('del-1') }));
      await h.create(observation({ identifier: labId('del-2') }));
      const r = await h.delete(`/fhir/Observation?identifier=${LAB_IDS}|del-1`);
      assert.equal(r.status, 200, r.body);
      assert.equal((await h.get(`/fhir/Observation/${a.id}`)).status, 410);
      assert.equal((await h.ids('Observation')).length, 1);
    });

    test('JSON Patch: applies operations; a failed test op is 422, an invalid result 400', async (h) => {
      const created = await h.create(observation());
      const url = `/fhir/Observation/${created.id}`;
      const r = await h.patch(url, [
        { op: 'test', path: '/status', value: 'final' },
        { op: 'replace', path: '/status', value: 'amended' },
        { op: 'add', path: '/note', value: [{ text: 'haemolysed' }] },
      ]);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.headers.etag, 'W/"2"');
      assert.equal(r.json().status, 'amended');
      assert.deepEqual(r.json().note, [{ text: 'haemolysed' }]);
      assert.equal((await h.get(url)).json().status, 'amended');
      expectOutcome(await h.patch(url, [{ op: 'test', path: '/status', value: 'final' }]), 422, {
        diagnostics: /test failed/,
      });
      expectOutcome(await h.patch(url, [{ op: 'remove', path: '/nope' }]), 422);
      expectOutcome(await h.patch(url, { op: 'replace' }), 422);
      expectOutcome(await h.patch(url, [{ op: 'replace', path: '/status', value: 'done' }]), 400, {
        expression: 'Observation.status',
      });
      expectOutcome(await h.patch(url, [{ op: 'replace', path: '/id', value: 'other' }]), 422);
      expectOutcome(
        await h.patch(url, [{ op: 'replace', path: '/status', value: 'final' }], { 'if-match': 'W/"1"' }),
        412,
      );
      expectOutcome(await h.patch('/fhir/Observation/missing', [{ op: 'remove', path: '/note' }]), 404);
      assert.equal((await h.get(url)).headers.etag, 'W/"2"');
    });

    test('history of an instance, a type and the system page with _count and next links', async (h) => {
      const p = { ...patient(), id: 'hist-p' };
      await h.seed(p);
      await h.put('/fhir/Patient/hist-p', { ...p, gender: 'female' });
      await h.put('/fhir/Patient/hist-p', { ...p, gender: 'other' });
      await h.create(patient());
      await h.create(observation());

      const inst = (await h.get('/fhir/Patient/hist-p/_history')).json<Bundle>();
      assert.deepEqual(
        inst.entry!.map((e) => [(e.resource!.meta as { versionId: string }).versionId, e.response!.status]),
        [
          ['3', '200 OK'],
          ['2', '200 OK'],
          ['1', '201 Created'],
        ],
      );
      assert.equal(inst.entry![0]!.fullUrl, 'http://localhost:80/fhir/Patient/hist-p');

      /** Follows next links from `first`, returning every entry key and the page sizes. */
      const all = async (first: string) => {
        const keys: string[] = [];
        const sizes: number[] = [];
        let url: string | undefined = first;
        while (url) {
          const b: Bundle = (await h.get(url)).json<Bundle>();
          assert.equal(b.type, 'history');
          sizes.push(b.entry!.length);
          for (const e of b.entry!) keys.push(`${e.fullUrl} ${e.response!.etag}`);
          const next = link(b, 'next');
          url = next ? rel(next) : undefined;
        }
        return { keys, sizes };
      };
      const paged = await all('/fhir/Patient/hist-p/_history?_count=2');
      assert.deepEqual(paged.sizes, [2, 1]);
      assert.equal(new Set(paged.keys).size, 3);

      const type = await all('/fhir/Patient/_history?_count=2');
      assert.deepEqual(type.sizes, [2, 2]);
      assert.ok(type.keys.every((k) => k.includes('/fhir/Patient/')));
      assert.equal(new Set(type.keys).size, 4);

      const system = await all('/fhir/_history?_count=2');
      assert.deepEqual(system.sizes, [2, 2, 1]);
      assert.equal(new Set(system.keys).size, 5);
      assert.ok(system.keys.some((k) => k.includes('/fhir/Observation/')));

      expectOutcome(await h.get('/fhir/_history?_count=0'), 400, { expression: '_count' });
      expectOutcome(await h.get('/fhir/_history?_since=yesterday'), 400, { expression: '_since' });
      expectOutcome(await h.get('/fhir/Patient/nobody/_history'), 404);
    });

    test(
      'history _since uses the version time',
      async (h) => {
        const clock = h.clock!;
        clock.set('2024-03-01T00:00:00Z');
        await h.create(patient());
        clock.set('2024-03-10T00:00:00Z');
        await h.create(patient());
        const b = (await h.get('/fhir/Patient/_history?_since=2024-03-05T00:00:00Z')).json<Bundle>();
        assert.equal(b.entry!.length, 1);
        assert.equal((b.entry![0]!.resource!.meta as { lastUpdated: string }).lastUpdated, '2024-03-10T00:00:00.000Z');
      },
      { clock: () => manualClock('2024-01-01T00:00:00Z') },
    );
  });

  describe(`FHIR API preferences, capabilities and operations endpoints on ${dialect}`, () => {
    test('search by GET and by POST _search (form body) give the same matches', async (h) => {
      await h.seed(obs('hb-1'), obs('hb-2'), obs('npu-1', { code: 'NPU02319' }));
      const get = await h.ids(`Observation?code=${LOINC}|718-7`);
      assert.deepEqual(get, ['hb-1', 'hb-2']);
      const form = new URLSearchParams({ code: `${LOINC}|718-7` }).toString();
      const r = await h.post('/fhir/Observation/_search', form, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(matchIds(r.json<Bundle>()).sort(), get);
      // Query string and form parameters are AND'ed.
      const both = await h.post('/fhir/Observation/_search?_id=hb-2', form, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      assert.deepEqual(matchIds(both.json<Bundle>()), ['hb-2']);
      const self = link(r.json<Bundle>(), 'self')!;
      assert.match(self, /^http:\/\/localhost:80\/fhir\/Observation\?code=/);
    });

    test('Prefer: return=minimal answers without a body, return=OperationOutcome with one', async (h) => {
      const minimal = await h.post('/fhir/Patient', patient(), { prefer: 'return=minimal' });
      assert.equal(minimal.status, 201);
      assert.equal(minimal.body, '');
      assert.equal(minimal.headers.etag, 'W/"1"');
      const location = String(minimal.headers.location);
      assert.match(location, /\/fhir\/Patient\/[^/]+\/_history\/1$/);
      const id = location.split('/').at(-3)!;
      const upd = await h.put(
        `/fhir/Patient/${id}`,
        { ...patient(), id, gender: 'female' },
        { prefer: 'return=minimal' },
      );
      assert.equal(upd.status, 200);
      assert.equal(upd.body, '');
      assert.equal(upd.headers.etag, 'W/"2"');
      const oo = await h.post('/fhir/Patient', patient(), { prefer: 'return=OperationOutcome' });
      assert.equal(oo.status, 201);
      const outcome = oo.json<Outcome>();
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.equal(outcome.issue[0]!.severity, 'information');
      assert.match(String(oo.headers.location), /\/fhir\/Patient\//);
      const rep = await h.post('/fhir/Patient', patient(), { prefer: 'return=representation' });
      assert.equal(rep.json().resourceType, 'Patient');
    });

    test('Prefer: handling=lenient ignores an unknown parameter; strict is a 400 naming it', async (h) => {
      await h.seed(obs('o-1'));
      const strict = expectOutcome(await h.get('/fhir/Observation?colour=blue&status=final'), 400, {
        diagnostics: /'colour'/,
        expression: 'colour',
      });
      assert.equal(strict.issue[0]!.code, 'not-supported');
      const lenient = await h.search('Observation?colour=blue&status=final', { prefer: 'handling=lenient' });
      assert.deepEqual(matchIds(lenient), ['o-1']);
      const warn = lenient.entry!.find((e) => e.search?.mode === 'outcome');
      assert.equal(warn?.resource?.resourceType, 'OperationOutcome');
      assert.match(JSON.stringify(warn?.resource), /colour/);
      // Filters that parse are still applied under lenient handling.
      assert.deepEqual(
        matchIds(await h.search('Observation?colour=blue&status=amended', { prefer: 'handling=lenient' })),
        [],
      );
      expectOutcome(await h.get('/fhir/Observation?colour=blue', { prefer: 'handling=strict' }), 400);
    });

    test('/fhir/metadata is a CapabilityStatement listing Observation, its interactions and search parameters', async (h) => {
      const r = await h.get('/fhir/metadata');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/fhir\+json/);
      const cs = r.json<{
        resourceType: string;
        fhirVersion: string;
        rest: {
          mode: string;
          interaction: { code: string }[];
          resource: {
            type: string;
            interaction: { code: string }[];
            searchParam: { name: string; type: string }[];
            searchInclude: string[];
          }[];
        }[];
      }>();
      assert.equal(cs.resourceType, 'CapabilityStatement');
      assert.equal(cs.fhirVersion, '4.0.1');
      const rest = cs.rest[0]!;
      assert.equal(rest.mode, 'server');
      for (const code of ['transaction', 'batch', 'history-system'])
        assert.ok(
          rest.interaction.some((i) => i.code === code),
          code,
        );
      const o = rest.resource.find((x) => x.type === 'Observation')!;
      assert.ok(o);
      const codes = o.interaction.map((i) => i.code);
      for (const code of [
        'read',
        'vread',
        'update',
        'patch',
        'delete',
        'history-instance',
        'history-type',
        'create',
        'search-type',
      ])
        assert.ok(codes.includes(code), code);
      const params = new Map(o.searchParam.map((p) => [p.name, p.type]));
      assert.equal(params.get('code-value-quantity'), 'composite');
      assert.equal(params.get('value-quantity'), 'quantity');
      assert.equal(params.get('subject'), 'reference');
      assert.equal(params.get('date'), 'date');
      assert.equal(params.get('_id'), 'token');
      assert.equal(params.get('_lastUpdated'), 'date');
      assert.ok(o.searchInclude.includes('Observation:subject'));
      assert.ok(rest.resource.some((x) => x.type === 'DiagnosticReport'));
    });

    test('/healthz, /readyz and /metrics', async (h) => {
      const health = await h.get('/healthz');
      assert.equal(health.status, 200);
      assert.deepEqual(health.json<unknown>(), { status: 'ok' });
      const ready = await h.get('/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json<unknown>(), { status: 'ready', database: dialect });

      const created = await h.create(observation());
      const read = await h.get(`/fhir/Observation/${created.id}`);
      // The interaction labels the metrics; it is not a response header.
      assert.equal(read.headers['x-dxhub-interaction'], undefined);
      await h.search('Observation?status=final');
      const m = await h.get('/metrics');
      assert.equal(m.status, 200);
      assert.match(String(m.headers['content-type']), /^text\/plain/);
      assert.match(m.body, /# TYPE dxhub_http_request_duration_seconds histogram/);
      for (const interaction of ['create', 'read', 'search-type']) {
        assert.match(
          m.body,
          new RegExp(`dxhub_http_request_duration_seconds_count\\{[^}]*interaction="${interaction}"[^}]*\\} 1\\b`),
          interaction,
        );
      }
      assert.match(m.body, /dxhub_store_operation_duration_seconds_count\{operation="search",dialect="\w+"\}/);
    });
  });

  describe(`FHIR search semantics over HTTP on ${dialect}`, () => {
    test('token: system|code, |code, code, system|, :not, :missing, :text', async (h) => {
      const { category: _category, ...uncategorised } = obs('t-npu');
      await h.seed(
        obs('t-loinc'),
        { ...uncategorised, code: { coding: [{ system: NPU, code: 'NPU02319', display: 'Hæmoglobin;B' }] } },
        { ...obs('t-nosys'), code: { coding: [{ code: 'local-1' }], text: 'Local glucose' } },
      );
      assert.deepEqual(await h.ids(`Observation?code=${LOINC}|718-7`), ['t-loinc']);
      assert.deepEqual(await h.ids('Observation?code=718-7'), ['t-loinc']);
      assert.deepEqual(await h.ids('Observation?code=|local-1'), ['t-nosys']);
      assert.deepEqual(await h.ids('Observation?code=|718-7'), []);
      assert.deepEqual(await h.ids(`Observation?code=${NPU}|`), ['t-npu']);
      assert.deepEqual(await h.ids(`Observation?code=${LOINC}|NPU02319`), []);
      assert.deepEqual(await h.ids(`Observation?code=${LOINC}|718-7,${NPU}|NPU02319`), ['t-loinc', 't-npu']);
      assert.deepEqual(await h.ids(`Observation?code:not=${LOINC}|718-7`), ['t-nosys', 't-npu']);
      assert.deepEqual(await h.ids('Observation?category:missing=true'), ['t-npu']);
      assert.deepEqual(await h.ids('Observation?category:missing=false'), ['t-loinc', 't-nosys']);
      assert.deepEqual(await h.ids('Observation?code:text=hemo'), ['t-loinc']);
      assert.deepEqual(await h.ids('Observation?code:text=HB'), ['t-loinc']);
      assert.deepEqual(await h.ids('Observation?code:text=glucose'), ['t-nosys']);
      assert.deepEqual(await h.ids('Observation?code:text=hæmo'), ['t-npu']);
      assert.deepEqual(await h.ids('Observation?code:text=lucose'), []);
      expectOutcome(await h.get('/fhir/Observation?category:missing=maybe'), 400);
      expectOutcome(await h.get('/fhir/Observation?code:exact=718-7'), 400, { expression: 'code:exact' });
    });

    test('string: starts-with, case and accent insensitive; :exact; :contains', async (h) => {
      await h.seed(
        {
          ...patient({ name: [{ family: 'Jensen', given: ['Søren'] }], address: [{ city: 'Århus' }] }),
          id: 's-jensen',
        },
        {
          ...patient({ name: [{ family: 'Hansen', given: ['Jens'] }], address: [{ city: 'Odense' }] }),
          id: 's-hansen',
        },
        {
          ...patient({ name: [{ family: 'Sørensen', given: ['Mette'] }], address: [{ city: 'Aalborg' }] }),
          id: 's-sorensen',
        },
      );
      assert.deepEqual(await h.ids('Patient?address-city=arhus'), ['s-jensen']);
      assert.deepEqual(await h.ids('Patient?address-city=ÅRHUS'), ['s-jensen']);
      assert.deepEqual(await h.ids('Patient?address-city=År'), ['s-jensen']);
      assert.deepEqual(await h.ids('Patient?address-city=a'), ['s-jensen', 's-sorensen']);
      assert.deepEqual(await h.ids('Patient?name=jens'), ['s-hansen', 's-jensen']);
      assert.deepEqual(await h.ids('Patient?family=JENSEN'), ['s-jensen']);
      assert.deepEqual(await h.ids('Patient?name=SØR'), ['s-jensen', 's-sorensen']);
      assert.deepEqual(await h.ids('Patient?name=ensen'), []);
      assert.deepEqual(await h.ids('Patient?name:contains=ENSEN'), ['s-jensen', 's-sorensen']);
      assert.deepEqual(await h.ids('Patient?name:exact=Jensen'), ['s-jensen']);
      assert.deepEqual(await h.ids('Patient?name:exact=jensen'), []);
      assert.deepEqual(await h.ids('Patient?name:exact=Jens'), ['s-hansen']);
      assert.deepEqual(await h.ids('Patient?family:exact=Sørensen'), ['s-sorensen']);
      // Several values are OR'ed, several parameters AND'ed.
      assert.deepEqual(await h.ids('Patient?family=hansen,sørensen'), ['s-hansen', 's-sorensen']);
      assert.deepEqual(await h.ids('Patient?name=jens&address-city=odense'), ['s-hansen']);
    });

    test('date: every prefix, precision and ranges', async (h) => {
      await h.seed(
        obs('d-2010', { date: '2010-06-01T12:00:00Z' }),
        obs('d-dec31', { date: '2023-12-31T12:00:00Z' }),
        obs('d-jan15', { date: '2024-01-15T10:00:00Z' }),
        obs('d-jan20', { date: '2024-01-20T08:30:00+01:00' }),
        obs('d-feb10', { date: '2024-02-10T09:00:00Z' }),
      );
      const q = (v: string) => h.ids(`Observation?date=${encodeURIComponent(v)}`);
      assert.deepEqual(await q('2024-01'), ['d-jan15', 'd-jan20']);
      assert.deepEqual(await q('2024'), ['d-feb10', 'd-jan15', 'd-jan20']);
      assert.deepEqual(await q('2024-01-15'), ['d-jan15']);
      assert.deepEqual(await q('eq2024-01-15'), ['d-jan15']);
      assert.deepEqual(await q('2024-01-15T10:00:00Z'), ['d-jan15']);
      assert.deepEqual(await q('2024-01-15T11:00:00+01:00'), ['d-jan15']);
      assert.deepEqual(await q('2024-01-20T07:30Z'), ['d-jan20']);
      assert.deepEqual(await q('ne2024-01-15'), ['d-2010', 'd-dec31', 'd-feb10', 'd-jan20']);
      assert.deepEqual(await q('gt2024-01-15'), ['d-feb10', 'd-jan20']);
      assert.deepEqual(await q('lt2024-01-15'), ['d-2010', 'd-dec31']);
      assert.deepEqual(await q('ge2024-01-15'), ['d-feb10', 'd-jan15', 'd-jan20']);
      assert.deepEqual(await q('le2024-01-15'), ['d-2010', 'd-dec31', 'd-jan15']);
      assert.deepEqual(await q('sa2024-01-15'), ['d-feb10', 'd-jan20']);
      assert.deepEqual(await q('eb2024-01-15'), ['d-2010', 'd-dec31']);
      assert.deepEqual(await h.ids('Observation?date=ge2024-01-01&date=lt2024-02'), ['d-jan15', 'd-jan20']);
      assert.deepEqual(await q('2024-01-15,2024-02-10'), ['d-feb10', 'd-jan15']);
      expectOutcome(await h.get('/fhir/Observation?date=notadate'), 400, { expression: 'date' });
      expectOutcome(await h.get('/fhir/Observation?date=2024-13'), 400, { expression: 'date' });
      expectOutcome(await h.get('/fhir/Observation?date=xx2024'), 400, { expression: 'date' });
    });

    test('date: ap (approximately) matches near dates only', async (h) => {
      await h.seed(
        obs('d-2010', { date: '2010-06-01T12:00:00Z' }),
        obs('d-dec31', { date: '2023-12-31T12:00:00Z' }),
        obs('d-jan15', { date: '2024-01-15T10:00:00Z' }),
      );
      // ap: within 10 % of the distance to now (R4 §3.1.1.4.3); nowhere near 2010.
      assert.deepEqual(await h.ids('Observation?date=ap2024-01-15'), ['d-dec31', 'd-jan15']);
      assert.deepEqual(await h.ids('Observation?_lastUpdated=ap2010-01-01'), []);
    });

    test('reference: Type/id, id, :Type, :identifier, absolute URL', async (h) => {
      await h.seed(
        obs('r-p1', { subject: 'Patient/p1' }),
        obs('r-p2', { subject: 'Patient/p2' }),
        obs('r-g1', { subject: 'Group/p1' }),
        { ...observation(), id: 'r-ident', subject: { identifier: { system: CPR_SYSTEM, value: '0101901234' } } },
      );
      assert.deepEqual(await h.ids('Observation?subject=Patient/p1'), ['r-p1']);
      assert.deepEqual(await h.ids('Observation?subject=p1'), ['r-g1', 'r-p1']);
      assert.deepEqual(await h.ids('Observation?subject:Patient=p1'), ['r-p1']);
      assert.deepEqual(await h.ids('Observation?subject:Group=p1'), ['r-g1']);
      assert.deepEqual(await h.ids('Observation?patient=p2'), ['r-p2']);
      assert.deepEqual(await h.ids('Observation?subject=Patient/p1,Patient/p2'), ['r-p1', 'r-p2']);
      assert.deepEqual(await h.ids('Observation?subject=http://localhost:80/fhir/Patient/p2'), ['r-p2']);
      assert.deepEqual(await h.ids(`Observation?subject:identifier=${CPR_SYSTEM}|0101901234`), ['r-ident']);
      assert.deepEqual(await h.ids('Observation?subject:identifier=0101901234'), ['r-ident']);
      assert.deepEqual(await h.ids('Observation?subject:missing=false'), ['r-g1', 'r-p1', 'r-p2']);
      expectOutcome(await h.get('/fhir/Observation?subject:Group=Patient/p1'), 400);
      expectOutcome(await h.get('/fhir/Observation?subject:Nonsense=p1'), 400);
    });

    test('chaining: subject:Patient.identifier and patient.identifier', async (h) => {
      await h.seed(
        { ...patient({ identifier: [{ system: CPR_SYSTEM, value: '0201919990' }] }), id: 'pt-a' },
        { ...patient({ identifier: [{ system: CPR_SYSTEM, value: '0101901234' }] }), id: 'pt-b' },
        obs('c-a1', { subject: 'Patient/pt-a' }),
        obs('c-b1', { subject: 'Patient/pt-b' }),
        obs('c-a2', { subject: 'Patient/pt-a', code: 'NPU02319' }),
      );
      assert.deepEqual(await h.ids(`Observation?subject:Patient.identifier=${CPR_SYSTEM}|0201919990`), [
        'c-a1',
        'c-a2',
      ]);
      assert.deepEqual(await h.ids(`Observation?patient.identifier=${CPR_SYSTEM}|0101901234`), ['c-b1']);
      assert.deepEqual(await h.ids('Observation?subject.identifier=0101901234'), ['c-b1']);
      assert.deepEqual(
        await h.ids(`Observation?subject:Patient.identifier=${CPR_SYSTEM}|0201919990&code=${LOINC}|718-7`),
        ['c-a1'],
      );
      assert.deepEqual(await h.ids(`Observation?subject:Patient.identifier=${CPR_SYSTEM}|9999999999`), []);
      // A deleted target no longer satisfies the chain.
      assert.equal((await h.delete('/fhir/Patient/pt-a')).status, 200);
      assert.deepEqual(await h.ids(`Observation?subject:Patient.identifier=${CPR_SYSTEM}|0201919990`), []);
      expectOutcome(await h.get('/fhir/Observation?subject:Patient.colour=blue'), 400);
    });

    test('quantity: prefixes, system and unit, implicit precision', async (h) => {
      await h.seed(obs('q40', { value: 4.0 }), obs('q54', { value: 5.4 }), obs('q72', { value: 7.2 }), {
        ...observation(),
        id: 'q54mg',
        valueQuantity: { value: 5.4, unit: 'mg/dL', system: UCUM, code: 'mg/dL' },
      });
      const q = (v: string) => h.ids(`Observation?value-quantity=${encodeURIComponent(v)}`);
      assert.deepEqual(await q(`gt5|${UCUM}|mmol/L`), ['q54', 'q72']);
      assert.deepEqual(await q('5.4'), ['q54', 'q54mg']);
      assert.deepEqual(await q(`5.4|${UCUM}|mmol/L`), ['q54']);
      assert.deepEqual(await q('5.4||mmol/L'), ['q54']);
      assert.deepEqual(await q(`5.4|${UCUM}|mg/dL`), ['q54mg']);
      assert.deepEqual(await q('5.4|http://example.org/units|mmol/L'), []);
      // 5 means [4.5, 5.5), 5.0 means [4.95, 5.05), 5.40 means [5.395, 5.405) (R4 §3.1.1.4.1).
      assert.deepEqual(await q('5'), ['q54', 'q54mg']);
      assert.deepEqual(await q('5.0'), []);
      assert.deepEqual(await q('5.40'), ['q54', 'q54mg']);
      assert.deepEqual(await q('lt5'), ['q40']);
      assert.deepEqual(await q('ge5.4||mmol/L'), ['q54', 'q72']);
      assert.deepEqual(await q('le5.4||mmol/L'), ['q40', 'q54']);
      assert.deepEqual(await q('ne5.4||mmol/L'), ['q40', 'q72']);
      assert.deepEqual(await q('sa5||mmol/L'), ['q54', 'q72']);
      assert.deepEqual(await q('eb5||mmol/L'), ['q40']);
      assert.deepEqual(await q('ap5.4||mmol/L'), ['q54']);
      assert.deepEqual(await q('ap7||mmol/L'), ['q72']);
      expectOutcome(await h.get('/fhir/Observation?value-quantity=five'), 400, { expression: 'value-quantity' });
    });

    test('number: RiskAssessment probability', async (h) => {
      const ra = (id: string, p: number): Resource => ({
        resourceType: 'RiskAssessment',
        id,
        status: 'final',
        subject: { reference: 'Patient/p1' },
        prediction: [{ outcome: { text: 'CKD progression' }, probabilityDecimal: p }],
      });
      await h.seed(ra('ra-low', 0.2), ra('ra-high', 0.8));
      assert.deepEqual(await h.ids('RiskAssessment?probability=gt0.5'), ['ra-high']);
      assert.deepEqual(await h.ids('RiskAssessment?probability=lt0.5'), ['ra-low']);
      assert.deepEqual(await h.ids('RiskAssessment?probability=0.2'), ['ra-low']);
      assert.deepEqual(await h.ids('RiskAssessment?probability=0.5'), []);
      assert.deepEqual(await h.ids('RiskAssessment?probability=ge0.2'), ['ra-high', 'ra-low']);
      assert.deepEqual(await h.ids('RiskAssessment?probability=ne0.2'), ['ra-high']);
      expectOutcome(await h.get('/fhir/RiskAssessment?probability=high'), 400, { expression: 'probability' });
    });

    test('uri: ValueSet url exact and :below', async (h) => {
      const vs = (id: string, url: string): Resource => ({ resourceType: 'ValueSet', id, url, status: 'active' });
      await h.seed(
        vs('vs-lab', 'http://dxhub.example/fhir/ValueSet/lab'),
        vs('vs-lab-extra', 'http://dxhub.example/fhir/ValueSet/lab-extra'),
        vs('vs-other', 'http://other.example/ValueSet/lab'),
      );
      assert.deepEqual(await h.ids('ValueSet?url=http://dxhub.example/fhir/ValueSet/lab'), ['vs-lab']);
      assert.deepEqual(await h.ids('ValueSet?url=http://dxhub.example/fhir/ValueSet/LAB'), []);
      assert.deepEqual(await h.ids('ValueSet?url:below=http://dxhub.example/fhir/ValueSet'), [
        'vs-lab',
        'vs-lab-extra',
      ]);
    });

    test('composite: code-value-quantity', async (h) => {
      await h.seed(
        obs('hb72', { value: 7.2 }),
        obs('hb60', { value: 6.0 }),
        obs('crea75', { code: '2345-7', value: 7.5 }),
      );
      assert.deepEqual(await h.ids(`Observation?code-value-quantity=${LOINC}|718-7$gt7`), ['hb72']);
      assert.deepEqual(await h.ids(`Observation?code-value-quantity=${LOINC}|718-7$lt7`), ['hb60']);
      assert.deepEqual(await h.ids(`Observation?code-value-quantity=2345-7$7.5`), ['crea75']);
      assert.deepEqual(await h.ids(`Observation?code-value-quantity=${LOINC}|718-7$gt7||mmol/L`), ['hb72']);
      assert.deepEqual(await h.ids(`Observation?code-value-quantity=${LOINC}|718-7$gt7||g/L`), []);
      assert.deepEqual(await h.ids(`Observation?code-value-quantity=${LOINC}|718-7$gt8`), []);
      expectOutcome(await h.get(`/fhir/Observation?code-value-quantity=${LOINC}|718-7`), 400);
    });

    test(
      '_id, _tag, _profile and _lastUpdated',
      async (h) => {
        const clock = h.clock!;
        clock.set('2024-03-01T00:00:00Z');
        await h.seed({
          ...obs('lu-1'),
          meta: { tag: [{ system: 'http://dxhub.example/tags', code: 'demo' }] },
        });
        clock.set('2024-03-05T00:00:00Z');
        await h.seed({ ...obs('lu-2'), meta: { profile: ['http://dxhub.example/StructureDefinition/lab-obs'] } });
        clock.set('2024-04-01T00:00:00Z');
        await h.seed(obs('lu-3'));
        assert.equal((await h.get('/fhir/Observation/lu-1')).json().meta?.lastUpdated, '2024-03-01T00:00:00.000Z');
        assert.deepEqual(await h.ids('Observation?_id=lu-1,lu-3'), ['lu-1', 'lu-3']);
        assert.deepEqual(await h.ids('Observation?_id=nope'), []);
        assert.deepEqual(await h.ids('Observation?_tag=http://dxhub.example/tags|demo'), ['lu-1']);
        assert.deepEqual(await h.ids('Observation?_tag=demo'), ['lu-1']);
        assert.deepEqual(await h.ids('Observation?_profile=http://dxhub.example/StructureDefinition/lab-obs'), [
          'lu-2',
        ]);
        assert.deepEqual(await h.ids('Observation?_lastUpdated=2024-03'), ['lu-1', 'lu-2']);
        assert.deepEqual(await h.ids('Observation?_lastUpdated=gt2024-03-03'), ['lu-2', 'lu-3']);
        assert.deepEqual(await h.ids('Observation?_lastUpdated=lt2024-03-02'), ['lu-1']);
        assert.deepEqual(await h.ids('Observation?_lastUpdated=ge2024-03-05&_lastUpdated=le2024-03-31'), ['lu-2']);
        expectOutcome(await h.get('/fhir/Observation?_lastUpdated=soon'), 400, { expression: '_lastUpdated' });
      },
      { clock: () => manualClock('2024-01-01T00:00:00Z') },
    );

    test('_count and _sort with several keys and descending', async (h) => {
      await h.seed(
        obs('s1', { date: '2024-01-03' }),
        obs('s2', { date: '2024-01-01' }),
        { ...obs('s3', { date: '2024-01-02' }), status: 'amended' },
        { ...obs('s4', { date: '2024-01-05' }), status: 'preliminary' },
      );
      assert.deepEqual(await h.ids('Observation?_sort=date', { ordered: true }), ['s2', 's3', 's1', 's4']);
      assert.deepEqual(await h.ids('Observation?_sort=-date', { ordered: true }), ['s4', 's1', 's3', 's2']);
      assert.deepEqual(await h.ids('Observation?_sort=status,-date', { ordered: true }), ['s3', 's1', 's2', 's4']);
      assert.deepEqual(await h.ids('Observation?_sort=-status,date', { ordered: true }), ['s4', 's2', 's1', 's3']);
      assert.deepEqual(await h.ids('Observation?_sort=-_id', { ordered: true }), ['s4', 's3', 's2', 's1']);
      const page = await h.search('Observation?_sort=date&_count=2');
      assert.deepEqual(matchIds(page), ['s2', 's3']);
      const next = link(page, 'next');
      assert.ok(next);
      const page2 = (await h.get(rel(next))).json<Bundle>();
      assert.deepEqual(matchIds(page2), ['s1', 's4']);
      assert.equal(link(page2, 'next'), undefined);
      assert.ok(link(page2, 'previous'));
      expectOutcome(await h.get('/fhir/Observation?_sort=colour'), 400, { expression: '_sort' });
      expectOutcome(await h.get('/fhir/Observation?_count=-1'), 400, { expression: '_count' });
      expectOutcome(await h.get('/fhir/Observation?_count=many'), 400, { expression: '_count' });
    });

    test('next links are stable: paging 45 resources by 10 while others are added', async (h) => {
      const originals = new Set<string>();
      for (let i = 0; i < 45; i++) originals.add((await h.create(observation({ value: i }))).id!);
      const seen: string[] = [];
      let url: string | undefined = '/fhir/Observation?_count=10';
      let pages = 0;
      while (url) {
        const b: Bundle = (await h.get(url)).json<Bundle>();
        seen.push(...matchIds(b));
        pages++;
        // New resources arrive between pages (inserted before the first match on some engines' orders).
        for (let i = 0; i < 3; i++) await h.create(observation({ value: 100 + i }));
        const next = link(b, 'next');
        url = next ? rel(next) : undefined;
      }
      assert.equal(pages, 5);
      assert.equal(new Set(seen).size, seen.length, 'no duplicates');
      assert.deepEqual(new Set(seen), originals, 'every original exactly once, nothing newer');
      assert.equal((await h.search('Observation?_summary=count')).total, 45 + 15);
      expectOutcome(await h.get('/fhir/Observation?_page=garbage'), 400, { expression: '_page' });
    });

    test('a page past the last match reports the real total', async (h) => {
      await h.seed(obs('past-1'));
      const b = await h.search('Observation?_offset=5');
      assert.deepEqual(matchIds(b), []);
      assert.ok(b.total === undefined || b.total === 1, `total ${b.total}`);
    });

    test('_include=DiagnosticReport:result and _revinclude=Provenance:target', async (h) => {
      await h.seed(obs('i-1'), obs('i-2'), obs('i-3'), {
        resourceType: 'DiagnosticReport',
        id: 'dr-1',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '58410-2' }] },
        subject: { reference: 'Patient/p1' },
        result: [{ reference: 'Observation/i-1' }, { reference: 'Observation/i-2' }],
      });
      await h.seed({
        resourceType: 'Provenance',
        id: 'prov-1',
        target: [{ reference: 'Observation/i-1' }],
        recorded: '2024-01-01T10:00:00Z',
        agent: [{ who: { reference: 'Device/analyser-1' } }],
      });
      const inc = await h.search('DiagnosticReport?_include=DiagnosticReport:result');
      const modes = (b: Bundle) =>
        (b.entry ?? []).map((e) => `${e.search!.mode} ${e.resource!.resourceType}/${e.resource!.id}`).sort();
      assert.deepEqual(modes(inc), [
        'include Observation/i-1',
        'include Observation/i-2',
        'match DiagnosticReport/dr-1',
      ]);
      assert.equal(inc.total, 1);
      const rev = await h.search('Observation?_id=i-1,i-3&_revinclude=Provenance:target');
      assert.deepEqual(modes(rev), ['include Provenance/prov-1', 'match Observation/i-1', 'match Observation/i-3']);
      expectOutcome(await h.get('/fhir/DiagnosticReport?_include=DiagnosticReport:status'), 400, {
        expression: '_include',
      });
    });

    test('_summary=count, _elements=status and _total=accurate', async (h) => {
      await h.seed(obs('e-1'), obs('e-2'), { ...obs('e-3'), status: 'amended' });
      const count = await h.search('Observation?_summary=count');
      assert.equal(count.total, 3);
      assert.deepEqual(count.entry ?? [], []);
      assert.equal((await h.search('Observation?status=amended&_summary=count')).total, 1);

      const el = await h.search('Observation?_elements=status&_id=e-3');
      const r = el.entry![0]!.resource!;
      assert.equal(r.status, 'amended');
      assert.equal(r.id, 'e-3');
      assert.equal(r.code, undefined);
      assert.equal(r.valueQuantity, undefined);
      assert.ok((r.meta!.tag as { code: string }[]).some((t) => t.code === 'SUBSETTED'));

      const total = await h.search('Observation?_count=1&_total=accurate');
      assert.equal(total.total, 3);
      assert.equal(total.entry!.length, 1);
      expectOutcome(await h.get('/fhir/Observation?_summary=maybe'), 400, { expression: '_summary' });
      expectOutcome(await h.get('/fhir/Observation?_total=lots'), 400, { expression: '_total' });
    });
  });

  describe(`FHIR API bad input on ${dialect}`, () => {
    test('malformed JSON is 400, a wrong content type 415, both OperationOutcomes', async (h) => {
      expectOutcome(await h.post('/fhir/Observation', '{"resourceType": "Observation",'), 400, {
        diagnostics: /Malformed JSON/,
      });
      expectOutcome(await h.put('/fhir/Observation/x', '[1, 2'), 400);
      expectOutcome(await h.post('/fhir/Observation', 'status=final', { 'content-type': 'text/plain' }), 415, {
        diagnostics: /text\/plain/,
      });
      expectOutcome(await h.post('/fhir', '<Bundle/>', { 'content-type': 'application/fhir+xml' }), 415);
      expectOutcome(await h.post('/fhir/Observation', '', { 'content-type': 'application/fhir+json' }), 400);
      expectOutcome(await h.post('/fhir/Observation', '"just a string"'), 400);
      expectOutcome(await h.post('/fhir/Observation', [observation()]), 400);
      assert.equal((await h.search('Observation?_summary=count')).total, 0);
    });

    test(
      'a body over the limit is 413',
      async (h) => {
        const big = observation({ note: [{ text: 'x'.repeat(2000) }] });
        expectOutcome(await h.post('/fhir/Observation', big), 413, { diagnostics: /1000 bytes/ });
        assert.equal((await h.post('/fhir/Observation', observation())).status, 201);
      },
      { bodyLimit: 1000 },
    );

    test('unknown resource types and routes are 404', async (h) => {
      expectOutcome(await h.get('/fhir/Foo'), 404, { diagnostics: /Foo/ });
      expectOutcome(await h.get('/fhir/Foo/1'), 404);
      expectOutcome(await h.post('/fhir/Foo', { resourceType: 'Foo' }), 404);
      expectOutcome(await h.get('/fhir/observation?code=x'), 404);
      expectOutcome(await h.get('/fhir/Observation/1/_history/1/extra'), 404);
      expectOutcome(await h.get('/nothing-here'), 404);
      // The router's own errors are OperationOutcomes too.
      expectOutcome(await h.get(`/fhir/Observation/${'x'.repeat(300)}`), 400, { diagnostics: /max param length/ });
      expectOutcome(await h.get('/fhir/Patient/%E0%A4%A'), 400, { diagnostics: /not a valid url/ });
    });

    test('PUT with an id or type that does not match the URL is 400', async (h) => {
      expectOutcome(await h.put('/fhir/Patient/a', { ...patient(), id: 'b' }), 400, { expression: 'id' });
      expectOutcome(await h.put('/fhir/Patient/a', patient()), 400, { expression: 'id' });
      expectOutcome(await h.put('/fhir/Patient/a', { ...observation(), id: 'a' }), 400, { expression: 'resourceType' });
      expectOutcome(await h.post('/fhir/Patient', observation()), 400, { expression: 'resourceType' });
      expectOutcome(await h.put('/fhir/Patient', patient()), 400);
      expectOutcome(await h.get('/fhir/Patient/a'), 404);
    });

    test('validation errors are 400 with the element path in expression', async (h) => {
      const done = { ...observation(), status: 'done' };
      expectOutcome(await h.post('/fhir/Observation', done), 400, { expression: 'Observation.status' });
      const { code: _code, ...noCode } = observation();
      expectOutcome(await h.post('/fhir/Observation', noCode), 400, { expression: 'Observation.code' });
      expectOutcome(await h.post('/fhir/Observation', { ...observation(), foo: 1 }), 400, {
        expression: 'Observation.foo',
      });
      expectOutcome(await h.put('/fhir/Observation/v-1', { ...done, id: 'v-1' }), 400, {
        expression: 'Observation.status',
      });
      expectOutcome(await h.post('/fhir/Observation', { ...observation(), effectiveDateTime: '2024-13-01' }), 400);
      assert.equal((await h.search('Observation?_summary=count')).total, 0);
    });

    test('SQL injection in search values and ids: no error, no leak, tables intact', async (h) => {
      await h.seed({ ...patient(), id: 'victim' });
      const attempts = [
        "name=' OR 1=1 --",
        "name='; DROP TABLE resource; --",
        "family:exact=x' OR 'x'='x",
        'name:contains=%',
        'name:contains=_',
        "identifier=' OR '1'='1|1",
        "identifier=x|y' UNION SELECT content FROM resource --",
        "general-practitioner=Practitioner/1' OR 1=1--",
        '_tag=1) OR (1=1',
        'birthdate=ge1900-01-01T00:00:00Z',
      ];
      for (const a of attempts) {
        const [name, value] = a.split(/=(.*)/s) as [string, string];
        const b = await h.search(`Patient?${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
        const expected = a.startsWith('birthdate') ? ['victim'] : [];
        assert.deepEqual(matchIds(b), expected, a);
      }
      for (const a of ['_id=1;DROP TABLE resource', "_id=1' OR '1'='1", '_sort=name;DROP TABLE resource']) {
        const [name, value] = a.split(/=(.*)/s) as [string, string];
        expectOutcome(await h.get(`/fhir/Patient?${name}=${encodeURIComponent(value)}`), 400, { expression: name });
      }
      expectOutcome(await h.get(`/fhir/Patient/${encodeURIComponent("victim' OR '1'='1")}`), 404);
      expectOutcome(await h.get(`/fhir/Patient/${encodeURIComponent('x;DROP TABLE resource')}/_history/1`), 404);
      const badId = "a';DROP TABLE resource;--";
      expectOutcome(await h.put(`/fhir/Patient/${encodeURIComponent(badId)}`, { ...patient(), id: badId }), 400, {
        diagnostics: /not a valid id/,
      });
      const cond = await h.post('/fhir/Patient', patient(), {
        'if-none-exist': `identifier=${encodeURIComponent("' OR 1=1; DROP TABLE resource --")}`,
      });
      assert.equal(cond.status, 201, 'the condition matched nothing, so a new Patient was created');
      // The table is still there and holds exactly what was written.
      assert.equal((await h.get('/fhir/Patient/victim')).status, 200);
      assert.equal((await h.search('Patient?_summary=count')).total, 2);
    });
  });

  describe(`FHIR batch and transaction Bundles on ${dialect}`, () => {
    const uuid = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

    test('transaction: a DiagnosticReport and 10 Observations with urn:uuid references and a conditional reference', async (h) => {
      const pat = await h.create(patient({ identifier: [{ system: CPR_SYSTEM, value: '0201919990' }] }));
      const obsEntries = Array.from({ length: 10 }, (_, i) => ({
        fullUrl: uuid(i + 1),
        resource: {
          ...observation({ value: 5 + i / 10 }),
          subject: { reference: `Patient?identifier=${CPR_SYSTEM}|0201919990` },
        },
        request: { method: 'POST', url: 'Observation' },
      }));
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: uuid(100),
            resource: {
              resourceType: 'DiagnosticReport',
              status: 'final',
              code: { coding: [{ system: LOINC, code: '58410-2' }] },
              subject: { reference: `Patient?identifier=${CPR_SYSTEM}|0201919990` },
              result: obsEntries.map((e) => ({ reference: e.fullUrl })),
            },
            request: { method: 'POST', url: 'DiagnosticReport' },
          },
          ...obsEntries,
        ],
      };
      const r = await h.post('/fhir', bundle);
      assert.equal(r.status, 200, r.body);
      const resp = r.json<Bundle>();
      assert.equal(resp.type, 'transaction-response');
      assert.equal(resp.entry!.length, 11);
      for (const e of resp.entry!) {
        assert.equal(e.response!.status, '201 Created');
        assert.equal(e.response!.etag, 'W/"1"');
      }
      const locations = resp.entry!.map((e) => e.response!.location!);
      assert.match(locations[0]!, /^DiagnosticReport\/[^/]+\/_history\/1$/);
      const obsRefs = locations.slice(1).map((l) => l.split('/_history')[0]!);
      assert.ok(obsRefs.every((ref) => /^Observation\/[A-Za-z0-9\-.]+$/.test(ref)));

      const drId = locations[0]!.split('/')[1]!;
      const dr = (await h.get(`/fhir/DiagnosticReport/${drId}`)).json();
      assert.deepEqual(
        (dr.result as { reference: string }[]).map((x) => x.reference),
        obsRefs,
        'result references rewritten to the new Observation ids, in order',
      );
      assert.deepEqual(dr.subject, { reference: `Patient/${pat.id}` });
      for (const ref of obsRefs) {
        const o = await h.get(`/fhir/${ref}`);
        assert.equal(o.status, 200);
        assert.deepEqual(o.json().subject, { reference: `Patient/${pat.id}` });
      }
      assert.equal((await h.search(`Observation?subject=Patient/${pat.id}&_summary=count`)).total, 10);
      const inc = await h.search(`DiagnosticReport?_id=${drId}&_include=DiagnosticReport:result`);
      assert.equal(inc.entry!.length, 11);
    });

    test('transaction: an invalid 5th entry fails the whole Bundle and stores nothing', async (h) => {
      await h.create(observation());
      const entries = Array.from({ length: 8 }, (_, i) => ({
        fullUrl: uuid(i + 1),
        resource: i === 4 ? { ...observation(), status: 'done' } : observation(),
        request: { method: 'POST', url: 'Observation' },
      }));
      const r = await h.post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: entries });
      expectOutcome(r, 400, { expression: 'Bundle.entry[4]' });
      assert.ok(r.json<Outcome>().issue.some((i) => i.expression?.includes('Observation.status')));
      assert.equal((await h.search('Observation?_summary=count')).total, 1);
      assert.equal((await h.get('/fhir/_history')).json<Bundle>().entry!.length, 1);

      // A failure found late (a PUT with a stale If-Match, processed after the POSTs) also rolls back.
      await h.seed(obs('tx-existing'));
      const late = await h.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: observation(), request: { method: 'POST', url: 'Observation' } },
          {
            resource: { ...obs('tx-existing'), status: 'amended' },
            request: { method: 'PUT', url: 'Observation/tx-existing', ifMatch: 'W/"7"' },
          },
        ],
      });
      expectOutcome(late, 412, { expression: 'Bundle.entry[1]' });
      assert.equal((await h.search('Observation?_summary=count')).total, 2);
      assert.equal((await h.get('/fhir/Observation/tx-existing')).json().status, 'final');
    });

    test('transaction: an unresolvable urn:uuid or conditional reference fails it', async (h) => {
      const dangling = await h.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { ...observation(), subject: { reference: uuid(9) } },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      });
      expectOutcome(dangling, 400, { expression: 'Bundle.entry[0]' });
      const noMatch = await h.post('/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { ...observation(), subject: { reference: `Patient?identifier=${CPR_SYSTEM}|0000000000` } },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      });
      expectOutcome(noMatch, 412);
      expectOutcome(await h.post('/fhir', { resourceType: 'Bundle', type: 'collection', entry: [] }), 400);
      expectOutcome(await h.post('/fhir', observation()), 400);
      expectOutcome(
        await h.post('/fhir', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: observation() }] }),
        400,
      );
      assert.equal((await h.search('Observation?_summary=count')).total, 0);
    });

    test('transaction: If-None-Exist reuses the existing Patient and references resolve to it', async (h) => {
      const existing = await h.create(patient({ identifier: [{ system: CPR_SYSTEM, value: '0201919990' }] }));
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: uuid(1),
            resource: patient({ identifier: [{ system: CPR_SYSTEM, value: '0201919990' }] }),
            request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${CPR_SYSTEM}|0201919990` },
          },
          {
            fullUrl: uuid(2),
            resource: patient({ identifier: [{ system: CPR_SYSTEM, value: '0101901234' }] }),
            request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${CPR_SYSTEM}|0101901234` },
          },
          {
            fullUrl: uuid(3),
            resource: { ...observation(), subject: { reference: uuid(1) } },
            request: { method: 'POST', url: 'Observation' },
          },
          {
            fullUrl: uuid(4),
            resource: { ...observation(), subject: { reference: uuid(2) } },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      };
      const r = await h.post('/fhir', bundle);
      assert.equal(r.status, 200, r.body);
      const e = r.json<Bundle>().entry!;
      assert.equal(e[0]!.response!.status, '200 OK');
      assert.equal(e[0]!.response!.location, `Patient/${existing.id}/_history/1`);
      assert.equal(e[1]!.response!.status, '201 Created');
      const newPatient = e[1]!.response!.location!.split('/')[1]!;
      const o1 = (await h.get(`/fhir/${e[2]!.response!.location!.split('/_history')[0]}`)).json();
      const o2 = (await h.get(`/fhir/${e[3]!.response!.location!.split('/_history')[0]}`)).json();
      assert.deepEqual(o1.subject, { reference: `Patient/${existing.id}` });
      assert.deepEqual(o2.subject, { reference: `Patient/${newPatient}` });
      assert.equal((await h.search(`Patient?identifier=${CPR_SYSTEM}|0201919990`)).entry!.length, 1);
      // Posting the same transaction again creates no Patients, only the two Observations.
      assert.equal((await h.post('/fhir', bundle)).status, 200);
      assert.equal((await h.search('Patient?_summary=count')).total, 2);
      assert.equal((await h.search('Observation?_summary=count')).total, 4);
    });

    test('batch: entries succeed or fail on their own, with per-entry statuses', async (h) => {
      await h.seed(obs('b-existing'));
      const r = await h.post('/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: observation(), request: { method: 'POST', url: 'Observation' } },
          { resource: { ...observation(), status: 'done' }, request: { method: 'POST', url: 'Observation' } },
          { request: { method: 'GET', url: 'Observation/b-existing' } },
          { request: { method: 'GET', url: 'Observation/b-missing' } },
          { request: { method: 'GET', url: `Observation?code=${LOINC}|718-7` } },
          {
            resource: { ...obs('b-existing'), status: 'amended' },
            request: { method: 'PUT', url: 'Observation/b-existing' },
          },
          { request: { method: 'DELETE', url: 'Observation/b-existing' } },
          { request: { method: 'POST' } },
        ],
      });
      assert.equal(r.status, 200, r.body);
      const b = r.json<Bundle>();
      assert.equal(b.type, 'batch-response');
      assert.deepEqual(
        b.entry!.map((e) => e.response!.status),
        ['201 Created', '400', '200 OK', '404', '200 OK', '200 OK', '200 OK', '400'],
      );
      assert.match(b.entry![0]!.response!.location!, /^Observation\/[^/]+\/_history\/1$/);
      const bad = b.entry![1]!.response!.outcome!;
      assert.equal(bad.resourceType, 'OperationOutcome');
      assert.ok(bad.issue.some((i) => i.expression?.includes('Observation.status')));
      assert.equal(b.entry![3]!.response!.outcome!.resourceType, 'OperationOutcome');
      assert.equal(b.entry![2]!.resource!.id, 'b-existing');
      assert.equal(b.entry![4]!.resource!.resourceType, 'Bundle');
      assert.equal(b.entry![5]!.response!.etag, 'W/"2"');
      assert.equal((await h.get('/fhir/Observation/b-existing')).status, 410);
      assert.equal((await h.search('Observation?_summary=count')).total, 1); // The base URL with a trailing slash takes Bundles too (as fhir-kit-client sends them).
      const slash = await h.post('/fhir/', { resourceType: 'Bundle', type: 'batch', entry: [] });
      assert.equal(slash.status, 200, slash.body);
      assert.equal(slash.json<Bundle>().type, 'batch-response');
    });
  });
}
