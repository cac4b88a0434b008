import type { Buffer } from 'node:buffer';
import {
  type AstmDelimiters,
  DEFAULT_ASTM_DELIMITERS,
  escapeAstm,
  parseAstmMessages,
  readAstmQuery,
} from '../core/astm/index.ts';
import type { FhirService } from '../fhir-api/fhir-service.ts';
import { type AstmStoredResource, escapeToken, findSpecimensBySampleId, searchAll } from './astm-specimens.ts';
import { astmLocalCodeSystem, DEFAULT_ASTM_SPECIMEN_SYSTEM } from './astm-to-fhir.ts';

/** Options of {@link AstmHostQuery}. */
export interface AstmHostQueryOptions {
  readonly service: FhirService;
  /** System of the hub's own sample identifiers (see DEFAULT_ASTM_SPECIMEN_SYSTEM). */
  readonly specimenSystem?: string;
  /** H-5 of the answers. Default `dxhub`. */
  readonly senderName?: string;
  /** IANA zone of the H-14 date-time. Default Europe/Copenhagen. */
  readonly timeZone?: string;
  readonly now?: () => Date;
}

type ServiceRequest = AstmStoredResource & {
  status?: string;
  priority?: string;
  code?: { text?: string; coding?: { system?: string; code?: string }[] };
};

/** ServiceRequest.priority → O-6 (LIS02-A2: S stat, A as soon as possible, R routine). */
const PRIORITY: Readonly<Record<string, string>> = { stat: 'S', asap: 'A', urgent: 'A', routine: 'R' };

/**
 * Answers E1394 host queries (Q records, "request information"): for each Q record, the pending
 * orders of the sample id in Q-3 — active ServiceRequests whose Specimen carries that barcode, that
 * a Specimen with it requests, or whose own identifier is it — as one message H, P, O (tests from
 * the codes of the instrument's local system `urn:dxhub:local:astm:<H-5.1>`, else `code.text`), L.
 * No orders: H and `L|1|I` (LIS02-A2 L-3 "I": no information available from the last query).
 */
export class AstmHostQuery {
  readonly #o: AstmHostQueryOptions;

  constructor(options: AstmHostQueryOptions) {
    this.#o = options;
  }

  /** The messages (records without CR) to send back for a received message; [] when it holds no Q record. */
  readonly answer = async (raw: Buffer, _peer?: string): Promise<string[][]> => {
    const parsed = parseAstmMessages(raw);
    if (!parsed.ok) return [];
    const out: string[][] = [];
    for (const message of parsed.value) {
      const instrument = message.header.senderName;
      for (const q of message.all('Q')) {
        const query = readAstmQuery(q);
        // Q-3 is patient ID ^ specimen ID ^ …; Roche puts the sample in component 3, some instruments in 1.
        const [c1 = '', c2 = '', c3 = ''] = query.startingRange.map((c) => c.trim());
        const sampleId = c2 || c3 || c1;
        const orders = sampleId ? await this.pendingOrders(sampleId) : [];
        out.push(this.#message(instrument, sampleId, orders));
      }
    }
    return out;
  };

  /** Active ServiceRequests for a sample id (barcode), oldest first. */
  async pendingOrders(sampleId: string): Promise<ServiceRequest[]> {
    const service = this.#o.service;
    const system = this.#o.specimenSystem ?? DEFAULT_ASTM_SPECIMEN_SYSTEM;
    const found = new Map<string, ServiceRequest>();
    const add = (list: ServiceRequest[]) => {
      for (const r of list) if (r.id && r.status === 'active') found.set(r.id, r);
    };
    const specimens = await findSpecimensBySampleId(service, sampleId, system);
    for (const s of specimens) {
      add(
        await searchAll(service, 'ServiceRequest', [
          ['specimen', `Specimen/${s.id}`],
          ['status', 'active'],
        ]),
      );
      const requested = (s.request ?? [])
        .map((r) => /^ServiceRequest\/([^/]+)$/.exec(r.reference ?? '')?.[1])
        .filter((x): x is string => !!x);
      if (requested.length) add(await searchAll(service, 'ServiceRequest', [['_id', requested.join(',')]]));
    }
    add(
      await searchAll(service, 'ServiceRequest', [
        ['identifier', escapeToken(sampleId)],
        ['status', 'active'],
      ]),
    );
    return [...found.values()];
  }

  #message(instrument: string, sampleId: string, orders: readonly ServiceRequest[]): string[] {
    const d: AstmDelimiters = DEFAULT_ASTM_DELIMITERS;
    const e = (v: string) => escapeAstm(v, d);
    const header = `H|\\^&|||${e(this.#o.senderName ?? 'dxhub')}|||||${e(instrument)}||P|1|${this.#timestamp()}`;
    const local = astmLocalCodeSystem(instrument);
    const tests: string[] = [];
    let priority = 'R';
    for (const o of orders) {
      const codings = (o.code?.coding ?? []).filter((c) => c.system === local && c.code);
      const codes = codings.length ? codings.map((c) => c.code as string) : o.code?.text ? [o.code.text] : [];
      for (const c of codes) if (!tests.includes(c)) tests.push(c);
      const p = PRIORITY[o.priority ?? ''];
      if (p === 'S' || (p === 'A' && priority === 'R')) priority = p;
    }
    if (tests.length === 0) return [header, 'L|1|I'];
    // O-3 sample, O-5 tests (repeats), O-6 priority, O-12 action code A (add to the sample), O-26 Q (answer to a query).
    const fields = ['O', '1', e(sampleId), '', tests.map((t) => `^^^${e(t)}`).join(d.repeat), priority];
    while (fields.length < 11) fields.push('');
    fields.push('A');
    while (fields.length < 25) fields.push('');
    fields.push('Q');
    return [header, 'P|1', fields.join('|'), 'L|1|N'];
  }

  /** Now as YYYYMMDDHHMMSS local time (LIS02-A2 H-14). */
  #timestamp(): string {
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: this.#o.timeZone ?? 'Europe/Copenhagen',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(this.#o.now?.() ?? new Date());
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
    return `${get('year')}${get('month')}${get('day')}${get('hour')}${get('minute')}${get('second')}`;
  }
}
