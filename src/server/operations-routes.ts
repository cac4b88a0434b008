import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { INTERVALS } from '../core/operations/stages.ts';
import type { InterfaceHealth } from '../ingest/interface-health.ts';
import type { BottleneckAlert } from '../operations/bottleneck-monitor.ts';
import {
  GROUP_BY,
  type GroupBy,
  queryIndicators,
  type TimeWindow,
  WINDOWS,
  windowStart,
  workInProgress,
} from '../operations/indicator-queries.ts';
import { interfaceStatus } from '../operations/interface-status.ts';
import { OPERATIONS_OPENAPI } from '../operations/operations-openapi.ts';
import type { OperationsService } from '../operations/operations-service.ts';
import type { OrderEventLog, PatternDimension } from '../ordering/order-events.ts';

/** Requisition patterns come from the ordering service's order-event log (docs/ordering.md), not recomputed here. */
export type RequisitionPatterns = Pick<OrderEventLog, 'patterns' | 'organisations'>;
const PATTERN_BY: readonly PatternDimension[] = ['organisation', 'orderer', 'test'];

type Query = { org?: string; window?: string; by?: string; format?: string; interval?: string; active?: string };

/** Roles that see management information; `bounded` ones only their organisation, `aggregate` ones no orders. */
const ROLES: Record<string, { bounded: boolean; orders: boolean }> = {
  admin: { bounded: false, orders: true },
  integration: { bounded: false, orders: true },
  'department-manager': { bounded: true, orders: false },
  'lab-technologist': { bounded: true, orders: true },
  'lab-physician': { bounded: true, orders: true },
  radiographer: { bounded: true, orders: true },
  radiologist: { bounded: true, orders: true },
};

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r;]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
/** Rows of objects as CSV (RFC 4180), columns from the union of keys. */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\r\n')}\r\n`;
}

/**
 * Management information under `/mi/` (docs/operations.md; OpenAPI at `/mi/openapi.json`):
 * indicators with drill-down by organisation, time windows and CSV export, work in progress,
 * alerts, interface health and a server-sent event stream.
 */
export async function operationsRoutes(
  app: FastifyInstance,
  opts: { ops: OperationsService; interfaces: InterfaceHealth; requisitions?: RequisitionPatterns },
) {
  const { ops } = opts;
  let known: { at: number; sections: Promise<string[]> } | undefined;
  const knownSections = () => {
    if (!known || Date.now() - known.at > 10_000) {
      const sections = ops.repo.db
        .all<{ section: string }>("SELECT DISTINCT section FROM ops_bucket WHERE grain = 'm' AND dim = 'all'")
        .then((rows) => rows.map((r) => r.section));
      known = { at: Date.now(), sections };
    }
    return known.sections;
  };

  /** ASTM sender name (a Device identifier's value) → the SOR code of the Device's owner; cached 60 s. */
  let devices: { at: number; owners: Promise<Map<string, string>> } | undefined;
  const deviceOwners = () => {
    if (!devices || Date.now() - devices.at > 60_000) {
      const owners = (async () => {
        const dir = await ops.directory();
        const out = new Map<string, string>();
        for (let offset = 0; ; offset += 1000) {
          const req = parseSearchRequest('Device', [['_count', '1000']]);
          req.offset = offset;
          const page = await ops.repo.search(req);
          for (const m of page.matches) {
            const d = JSON.parse(m.json) as { identifier?: { value?: string }[]; owner?: { reference?: string } };
            const owner = d.owner ? await dir.codeOf(d.owner, ops.repo) : undefined;
            if (owner) for (const i of d.identifier ?? []) if (i.value) out.set(i.value, owner);
          }
          if (!page.hasNext) return out;
        }
      })();
      owners.catch(() => {
        devices = undefined;
      });
      devices = { at: Date.now(), owners };
    }
    return devices.owners;
  };

  const access = (req: FastifyRequest) => {
    const kind = req.principal?.role.kind ?? '';
    const role = ROLES[kind];
    if (!role) throw Errors.forbidden(`management information is not available to the ${kind || 'anonymous'} role`);
    return role;
  };

  /** The sections a request covers (null: all), checked against the caller's organisation. */
  const scope = async (req: FastifyRequest<{ Querystring: Query }>): Promise<readonly string[] | null> => {
    const role = access(req);
    const own = req.principal?.organisation;
    const org = req.query.org ?? (role.bounded ? own : undefined);
    if (!org) return null;
    const dir = await ops.directory();
    if (role.bounded && (!own || !dir.within(org, own))) {
      throw Errors.forbidden(`organisation ${org} is outside ${own ?? 'the caller’s organisation'}`);
    }
    return (await knownSections()).filter((s) => dir.within(s, org));
  };

  const windowOf = (req: FastifyRequest<{ Querystring: Query }>): TimeWindow => {
    const w = req.query.window ?? 'today';
    if (!(WINDOWS as readonly string[]).includes(w))
      throw Errors.badRequest(`window must be one of ${WINDOWS.join(', ')}`);
    return w as TimeWindow;
  };
  const byOf = (req: FastifyRequest<{ Querystring: Query }>, def: GroupBy): GroupBy => {
    const by = req.query.by ?? def;
    if (!(GROUP_BY as readonly string[]).includes(by))
      throw Errors.badRequest(`by must be one of ${GROUP_BY.join(', ')}`);
    return by as GroupBy;
  };
  const wantsCsv = (req: FastifyRequest<{ Querystring: Query }>) =>
    req.query.format === 'csv' ||
    (req.query.format === undefined && /text\/csv/.test(String(req.headers.accept ?? '')));
  const answer = (
    req: FastifyRequest<{ Querystring: Query }>,
    reply: FastifyReply,
    rows: Record<string, unknown>[],
    body: unknown,
  ) => {
    if (req.query.format !== undefined && req.query.format !== 'csv' && req.query.format !== 'json') {
      throw Errors.badRequest('format must be json or csv');
    }
    if (wantsCsv(req)) return reply.type('text/csv; charset=utf-8').send(toCsv(rows));
    return body;
  };

  app.get('/mi/openapi.json', async () => OPERATIONS_OPENAPI);

  app.get<{ Querystring: Query }>('/mi/tat', async (req, reply) => {
    const sections = await scope(req);
    const names = INTERVALS.map((i) => i.name);
    const asked = req.query.interval?.split(',').filter(Boolean) ?? names;
    const unknown = asked.filter((a) => !names.includes(a));
    if (unknown.length)
      throw Errors.badRequest(`unknown interval(s) ${unknown.join(', ')}; known: ${names.join(', ')}`);
    const window = windowOf(req);
    const rows = await queryIndicators(
      ops.repo.db,
      {
        window,
        by: byOf(req, 'all'),
        sections,
        measures: asked,
        now: ops.now(),
      },
      ops.cache,
    );
    return answer(req, reply, rows as never, { window, sections, targets: ops.config.targets, rows });
  });

  app.get<{ Querystring: Query }>('/mi/throughput', async (req, reply) => {
    const sections = await scope(req);
    const window = windowOf(req);
    const by = byOf(req, 'section');
    const rows = await queryIndicators(
      ops.repo.db,
      {
        window,
        by,
        sections,
        measures: ['orders', 'results', 'completed'],
        now: ops.now(),
      },
      ops.cache,
    );
    const utilisation = ops.config.capacity.flatMap((c) => {
      const r = rows.find((x) => x.measure === 'results' && x.group === c.unit);
      return r
        ? [
            {
              unit: c.unit,
              resultsPerHour: r.perHour,
              capacityPerHour: c.resultsPerHour,
              utilisation: r.perHour / c.resultsPerHour,
            },
          ]
        : [];
    });
    return answer(req, reply, rows as never, { window, sections, rows, utilisation });
  });

  app.get<{ Querystring: Query }>('/mi/quality', async (req, reply) => {
    const sections = await scope(req);
    const window = windowOf(req);
    const rows = await queryIndicators(
      ops.repo.db,
      {
        window,
        by: byOf(req, 'all'),
        sections,
        measures: ['specimens', 'rejected', 'haemolysed', 'verification', 'critical-notification'],
        now: ops.now(),
      },
      ops.cache,
    );
    const groups = [...new Set(rows.map((r) => r.group))];
    const pct = (a: number, b: number) => (b > 0 ? Math.round((1000 * a) / b) / 10 : null);
    const summary = groups.map((group) => {
      const m = (measure: string) => rows.find((r) => r.measure === measure && r.group === group);
      const specimens = m('specimens')?.n ?? 0;
      const tagged = m('verification')?.n ?? 0;
      const critical = m('critical-notification');
      return {
        group,
        specimens,
        rejectedPercent: pct(m('rejected')?.n ?? 0, specimens),
        haemolysedPercent: pct(m('haemolysed')?.n ?? 0, specimens),
        verifiedResults: tagged,
        autoverificationPercent: pct(m('verification')?.hits ?? 0, tagged),
        criticalValues: critical?.n ?? 0,
        criticalNotificationMedianMinutes: critical?.medianMinutes ?? null,
        criticalNotificationP90Minutes: critical?.p90Minutes ?? null,
      };
    });
    return answer(req, reply, summary, { window, sections, summary, rows });
  });

  app.get<{ Querystring: Query }>('/mi/wip', async (req, reply) => {
    const role = access(req);
    const sections = await scope(req);
    const wip = await workInProgress(ops.repo.db, {
      sections,
      now: ops.now(),
      config: ops.config,
      withOrders: role.orders,
    });
    const rows = [
      ...wip.overdue.map((o) => ({ status: 'overdue', ...o })),
      ...wip.atRisk.map((o) => ({ status: 'at-risk', ...o })),
    ];
    return answer(req, reply, rows, { sections, ...wip });
  });

  app.get<{ Querystring: Query }>('/mi/alerts', async (req, reply) => {
    const sections = await scope(req);
    const alerts = (await ops.monitor.alerts({ active: req.query.active === 'true' })).filter(
      (a) => !sections || sections.includes(a.section),
    );
    return answer(req, reply, alerts as never, { alerts });
  });

  app.get<{ Querystring: Query }>('/mi/queues', async (req, reply) => {
    const sections = await scope(req);
    const queues = ops.monitor.readings.filter((q) => !sections || sections.includes(q.section));
    return answer(req, reply, queues as never, { queues });
  });

  app.get<{ Querystring: Query }>('/mi/organisations', async (req) => {
    access(req);
    const dir = await ops.directory();
    const nodes = new Map<string, string | null>();
    for (let s of await knownSections()) {
      while (s && !nodes.has(s)) {
        const parent = dir.parentOf(s) ?? null;
        nodes.set(s, parent);
        s = parent ?? '';
      }
    }
    return { nodes: [...nodes].map(([code, parent]) => ({ code, parent })) };
  });

  app.get<{ Querystring: Query }>('/mi/interfaces', async (req) => {
    const kind = req.principal?.role.kind;
    if (kind !== 'admin' && kind !== 'integration' && kind !== 'department-manager' && kind !== 'lab-technologist') {
      throw Errors.forbidden(
        'interface health is for operations (admin, integration, department-manager, lab-technologist)',
      );
    }
    const status = await interfaceStatus(ops.repo.db, opts.interfaces, ops.now(), ops.config.silence);
    const org = req.query.org;
    if (!org) return status;
    // Drill-down: analyzers by their Device's owner, HL7 senders by MSH-4 read as a SOR code;
    // a sender the organisation tree does not know (a region-wide LIS) is shown for the whole region only.
    const dir = await ops.directory();
    const owners = await deviceOwners();
    const inOrg = (code: string | undefined) => code !== undefined && dir.within(code, org);
    // MSH-4 read as a SOR code, compared as sent and in lower case (e.g. DEMO-RSD → demo-rsd).
    const facilityIn = (f: string) => f !== '' && (inOrg(f) || inOrg(f.toLowerCase()));
    return {
      ...status,
      org,
      hl7Senders: status.hl7Senders.filter((s) => facilityIn(s.sender.split('^')[1] ?? '')),
      analyzers: status.analyzers.filter((a) => inOrg(owners.get(a.analyzer))),
      ingest: {
        ...status.ingest,
        senders: status.ingest.senders.filter((s) => facilityIn(s.sendingFacility)),
      },
    };
  });

  app.get<{ Querystring: Query }>('/mi/requisitions', async (req, reply) => {
    const role = access(req);
    const patterns = opts.requisitions;
    if (!patterns) throw Errors.notSupported('Requisition patterns (the ordering service is not connected)');
    const by = (req.query.by ?? 'organisation') as PatternDimension;
    if (!PATTERN_BY.includes(by)) throw Errors.badRequest(`by must be one of ${PATTERN_BY.join(', ')}`);
    const window = windowOf(req);
    // Drill-down: the ordering organisations within `org` (bounded roles: within their own).
    const own = req.principal?.organisation;
    const org = req.query.org ?? (role.bounded ? own : undefined);
    let organisations: string[] | null = null;
    if (org) {
      const dir = await ops.directory();
      if (role.bounded && (!own || !dir.within(org, own)))
        throw Errors.forbidden(`organisation ${org} is outside ${own ?? 'the caller’s organisation'}`);
      organisations = (await patterns.organisations()).filter((o) => dir.within(o, org));
    }
    const now = ops.now();
    const from = windowStart(window, now);
    // Aggregates only: counts and rates per key; no patient, requisition or order id.
    const p = await patterns.patterns(by, from, now + 1, organisations);
    const rows = p.rows.map(({ funnel, ...r }) => ({
      [by]: r.key,
      ...Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'key')),
      funnelLower95: funnel.lower95,
      funnelUpper95: funnel.upper95,
      funnelLower998: funnel.lower998,
      funnelUpper998: funnel.upper998,
      funnelPosition: funnel.position,
    }));
    return answer(req, reply, rows, {
      window,
      by,
      from: new Date(from).toISOString(),
      to: new Date(now).toISOString(),
      organisations,
      ...p,
    });
  });

  app.get<{ Querystring: Query }>('/mi/stream', async (req, reply) => {
    const sections = await scope(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('hello', { at: new Date(ops.now()).toISOString(), sections });
    let last = 0;
    const onApplied = async (events: { at: number }[], now: number) => {
      if (now - last < 1000) return;
      last = now;
      const lagSeconds = Math.max(...events.map((e) => (now - e.at) / 1000));
      const live = await queryIndicators(ops.repo.db, { window: 'live', by: 'all', sections, now }).catch(() => []);
      send('indicators', { at: new Date(now).toISOString(), events: events.length, lagSeconds, live });
    };
    const onAlert = (a: BottleneckAlert, change: string) => {
      if (!sections || sections.includes(a.section)) send('alert', { change, ...a });
    };
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    ops.on('applied', onApplied);
    ops.on('alert', onAlert);
    req.raw.on('close', () => {
      clearInterval(heartbeat);
      ops.off('applied', onApplied);
      ops.off('alert', onAlert);
    });
  });
}
