import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { call } from '../api.ts';
import { type ChartOption, EChart } from '../components/echart.tsx';
import { Section, When } from '../components/section.tsx';
import { useLocale, useText } from '../i18n.ts';
import {
  type HealthRow,
  healthRows,
  type Indicator,
  type InterfaceStatus,
  PERIODS,
  type Period,
  THROUGHPUT_MEASURES,
  type Throughput,
  throughputSeries,
} from '../lib/operations.ts';
import type { RoleKind } from '../lib/session.ts';
import { useQuery } from '../use-query.ts';

interface PatternRow {
  key: string;
  proposals: number;
  blockRate: number;
  overrideRate: number;
  funnel: { n: number; lower95: number; upper95: number; lower998: number; upper998: number; position: string };
}
interface Live {
  at: string;
  events: number;
  live: Indicator[];
}

const PATTERN_ROLES: readonly RoleKind[] = ['department-manager', 'admin', 'lab-physician', 'radiologist'];
/** The roles `/mi/interfaces` answers (src/server/operations-routes.ts). */
const HEALTH_ROLES: readonly RoleKind[] = ['admin', 'integration', 'department-manager', 'lab-technologist'];
/** Charts and figures refreshed at most this often while events arrive on the live stream (ms). */
const REFRESH_MS = 4_000;
/** The interval the turnaround chart shows, the first the data has (lab TAT first). */
const PREFERRED = ['collection-to-report', 'order-to-report', 'receipt-to-report', 'receipt-to-result'];
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${Math.round(v * 10) / 10}`);

/** `/mi/stream` read with fetch (EventSource cannot send the bearer token): one callback per event. */
async function stream(
  path: string,
  token: string | undefined,
  signal: AbortSignal,
  on: (event: string, data: unknown) => void,
) {
  const res = await fetch(path, { signal, headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let cut = buf.indexOf('\n\n');
    while (cut >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) on(event, JSON.parse(data));
      cut = buf.indexOf('\n\n');
    }
  }
}

/** Median and P90 per group as bars. */
function tatOption(rows: Indicator[], measure: string, t: (k: 'median' | 'p90') => string): ChartOption {
  const shown = rows.filter((r) => r.measure === measure && typeof r.medianMinutes === 'number').slice(0, 20);
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, right: 0 },
    title: { text: measure, textStyle: { fontSize: 12 } },
    grid: { left: 48, right: 16, bottom: 72, top: 40 },
    xAxis: { type: 'category', data: shown.map((r) => r.group || r.measure), axisLabel: { rotate: 30 } },
    yAxis: { type: 'value', name: 'min' },
    series: [
      { name: t('median'), type: 'bar', data: shown.map((r) => r.medianMinutes) },
      { name: t('p90'), type: 'bar', data: shown.map((r) => r.p90Minutes) },
    ],
  };
}

function throughputOption(
  rows: Indicator[],
  period: Period,
  names: Record<(typeof THROUGHPUT_MEASURES)[number], string>,
  axis: string,
): ChartOption {
  const { hours, series } = throughputSeries(rows, period);
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, right: 0 },
    grid: { left: 48, right: 16, bottom: 40, top: 32 },
    xAxis: { type: 'category', data: hours, name: axis, nameLocation: 'middle', nameGap: 26 },
    yAxis: { type: 'value', minInterval: 1 },
    color: ['#1d4e89', '#2e7d32', '#b35900'],
    series: THROUGHPUT_MEASURES.map((m) => ({
      name: names[m],
      type: m === 'results' ? 'bar' : 'line',
      data: series[m],
    })),
  };
}

/** Utilisation per unit as horizontal bars, with 100 % of the configured capacity marked. */
function utilisationOption(rows: Throughput['utilisation'], label: string): ChartOption {
  const shown = [...rows].sort((a, b) => b.utilisation - a.utilisation).slice(0, 20);
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 150, right: 24, bottom: 32, top: 16 },
    xAxis: { type: 'value', name: '%', max: (v: { max: number }) => Math.max(100, Math.ceil(v.max / 10) * 10) },
    yAxis: { type: 'category', data: shown.map((r) => r.unit), inverse: true },
    series: [
      {
        name: label,
        type: 'bar',
        data: shown.map((r) => ({
          value: Math.round(r.utilisation * 1000) / 10,
          itemStyle: { color: r.utilisation >= 1 ? '#b00020' : r.utilisation >= 0.85 ? '#b35900' : '#2e7d32' },
        })),
        markLine: { silent: true, symbol: 'none', data: [{ xAxis: 100 }], lineStyle: { color: '#b00020' } },
      },
    ],
  };
}

function healthOption(rows: HealthRow[], names: { messages: string; errors: string; queue: string }): ChartOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, right: 0 },
    grid: { left: 160, right: 24, bottom: 32, top: 32 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: rows.map((r) => r.name), inverse: true },
    color: ['#1d4e89', '#b00020', '#b35900'],
    series: [
      { name: names.messages, type: 'bar', data: rows.map((r) => r.messagesInWindow) },
      { name: names.errors, type: 'bar', data: rows.map((r) => r.errors) },
      { name: names.queue, type: 'bar', data: rows.map((r) => r.queueDepth) },
    ],
  };
}

/** Funnel plot: block rate against volume, with each unit's 95 % and 99.8 % control limits. */
function funnelOption(rows: PatternRow[]): ChartOption {
  const byN = [...rows].sort((a, b) => a.proposals - b.proposals);
  const limit = (k: 'lower95' | 'upper95' | 'lower998' | 'upper998', name: string, dashed: boolean) => ({
    name,
    type: 'line',
    showSymbol: false,
    lineStyle: { type: dashed ? 'dashed' : 'solid', width: 1 },
    data: byN.map((r) => [r.proposals, r.funnel[k] * 100]),
  });
  return {
    tooltip: { trigger: 'item' },
    legend: {},
    grid: { left: 48, right: 16, bottom: 40, top: 32 },
    xAxis: { type: 'value', name: 'n' },
    yAxis: { type: 'value', name: '%' },
    series: [
      {
        name: 'blocks %',
        type: 'scatter',
        symbolSize: 10,
        data: byN.map((r) => ({ value: [r.proposals, r.blockRate * 100], name: r.key })),
      },
      limit('upper95', '95 %', true),
      limit('lower95', '95 % ', true),
      limit('upper998', '99.8 %', false),
      limit('lower998', '99.8 % ', false),
    ],
  };
}

function IndicatorTable(props: { rows: Indicator[]; id: string; measure: string }) {
  const t = useText();
  const rows = props.rows
    .filter((r) => !props.measure || r.measure === props.measure)
    .sort((a, b) => a.group.localeCompare(b.group) || a.measure.localeCompare(b.measure));
  if (rows.length === 0) return <p>{t('noData')}</p>;
  return (
    <table id={props.id}>
      <thead>
        <tr>
          <th scope="col">{t('analysis')}</th>
          <th scope="col">{t('interval')}</th>
          <th scope="col">n</th>
          <th scope="col">{t('median')}</th>
          <th scope="col">{t('p90')}</th>
          <th scope="col">{t('inTarget')}</th>
          <th scope="col">{t('perHour')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, 30).map((r) => (
          <tr key={`${r.measure}|${r.group}`}>
            <th scope="row">{r.group || '–'}</th>
            <td>{r.measure}</td>
            <td>{r.n}</td>
            <td>{pct(r.medianMinutes)}</td>
            <td>{pct(r.p90Minutes)}</td>
            <td>{pct(r.withinTargetPercent)}</td>
            <td>{pct(r.perHour)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The live series: events applied per stream message, drawn with uPlot (dense, appended). */
function LiveChart(props: { points: [number, number][] }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>(null);
  useEffect(() => {
    if (!host.current) return;
    plot.current = new uPlot(
      {
        width: 600,
        height: 140,
        legend: { show: false },
        scales: { x: { time: true, range: (u) => liveRange(u.data[0]) } },
        series: [{}, { stroke: '#1d4e89', width: 2 }],
      },
      [[], []],
      host.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData([props.points.map((p) => p[0]), props.points.map((p) => p[1])]);
  }, [props.points]);
  return <div ref={host} role="img" aria-label={`${props.points.length} live points`} />;
}

/**
 * Management information (docs/operations.md): turnaround by section and analysis, work in
 * progress and overdue orders, bottleneck alerts, interface health and requisition patterns with
 * their funnel position; a drill-down by organisation (region → hospital → department → section)
 * and live updates over `/mi/stream`.
 */
export function Dashboard(props: { role: RoleKind; token: string }) {
  const t = useText();
  const locale = useLocale();
  const [org, setOrg] = useState('');
  const [chosen, setChosen] = useState('');
  const q = org ? `&org=${encodeURIComponent(org)}` : '';
  const orgs = useQuery(
    (signal) => call<{ nodes: { code: string; parent: string | null }[] }>('/mi/organisations', { signal }),
    [],
  );
  const bySection = useQuery(
    (signal) => call<{ rows: Indicator[] }>(`/mi/tat?window=today&by=section${q}`, { signal }),
    [q],
  );
  const byAnalysis = useQuery(
    (signal) => call<{ rows: Indicator[] }>(`/mi/tat?window=today&by=analysis${q}`, { signal }),
    [q],
  );
  const wip = useQuery(
    (signal) =>
      call<{ overdue: { section?: string; analysis?: string }[]; atRisk: unknown[] }>(`/mi/wip?x=1${q}`, { signal }),
    [q],
  );
  const alerts = useQuery(
    (signal) =>
      call<{ alerts: { section: string; kind?: string; message?: string }[] }>(`/mi/alerts?active=true${q}`, {
        signal,
      }),
    [q],
  );
  const [period, setPeriod] = useState<Period>('today');
  const throughput = useQuery(
    (signal) => call<Throughput>(`/mi/throughput?window=${period}&by=hour${q}`, { signal }),
    [q, period],
  );
  const utilisation = useQuery(
    (signal) => call<Throughput>(`/mi/throughput?window=${period}&by=section${q}`, { signal }),
    [q, period],
  );
  const health = useQuery(
    HEALTH_ROLES.includes(props.role)
      ? (signal) => call<InterfaceStatus>(`/mi/interfaces?x=1${q}`, { signal })
      : undefined,
    [q],
  );
  const patterns = useQuery(
    PATTERN_ROLES.includes(props.role)
      ? (signal) => call<{ rows: PatternRow[] }>('/ordering/patterns?by=organisation', { signal })
      : undefined,
    [],
  );
  const measures = [...new Set(bySection.data?.rows.map((r) => r.measure) ?? [])].sort();
  const measure = chosen || PREFERRED.find((m) => measures.includes(m)) || measures[0] || '';
  const [live, setLive] = useState<{ total: number; points: [number, number][]; n?: number }>({ total: 0, points: [] });
  // Live: while events arrive, the figures that change with each result are asked again, at most
  // every REFRESH_MS (the old figures stay on screen until the new arrive).
  const reloads = useRef<(() => void)[]>([]);
  reloads.current = [throughput.reload, utilisation.reload, health.reload, bySection.reload];
  const lastRefresh = useRef(0);
  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      timer = undefined;
      lastRefresh.current = Date.now();
      for (const r of reloads.current) r();
    };
    stream(`/mi/stream?x=1${q}`, props.token, ctl.signal, (event, data) => {
      if (event !== 'indicators') return;
      const d = data as Live;
      if (d.events > 0 && timer === undefined)
        timer = setTimeout(refresh, Math.max(0, lastRefresh.current + REFRESH_MS - Date.now()));
      setLive((cur) => ({
        total: cur.total + d.events,
        n: d.live.reduce((a, r) => a + r.n, 0),
        points: [...cur.points, [Date.parse(d.at) / 1000, cur.total + d.events] as [number, number]].slice(-300),
      }));
    }).catch(() => {});
    return () => {
      ctl.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [q, props.token]);
  const thrNames = { orders: t('thrOrders'), results: t('thrResults'), completed: t('thrCompleted') };
  const total = (rows: Indicator[], m: string) => rows.filter((r) => r.measure === m).reduce((a, r) => a + r.n, 0);
  return (
    <div id="dashboard" className="screen">
      <h2>{t('navDashboard')}</h2>
      <label htmlFor="mi-org">{t('drill')}</label>{' '}
      <select id="mi-org" value={org} onChange={(e) => setOrg(e.target.value)}>
        <option value="">{t('wholeRegion')}</option>
        {orgs.data?.nodes.map((n) => (
          <option key={n.code} value={n.code}>
            {n.parent ? '  '.repeat(depth(n.code, orgs.data!.nodes)) : ''}
            {n.code}
          </option>
        ))}
      </select>
      <label htmlFor="mi-interval">{t('interval')}</label>{' '}
      <select id="mi-interval" value={measure} onChange={(e) => setChosen(e.target.value)}>
        {measures.map((m) => (
          <option key={m}>{m}</option>
        ))}
      </select>
      <section id="live" aria-labelledby="live-h">
        <h3 id="live-h">{t('live')}</h3>
        <p>
          {t('liveEvents')}: <output id="live-events">{live.total}</output>
        </p>
        <LiveChart points={live.points} />
      </section>
      <label htmlFor="mi-period">{t('period')}</label>{' '}
      <select id="mi-period" value={period} onChange={(e) => setPeriod(e.target.value as Period)}>
        {PERIODS.map((p) => (
          <option key={p} value={p}>
            {t(p === 'today' ? 'periodToday' : 'period7d')}
          </option>
        ))}
      </select>
      <Section id="throughput" title={t('throughput')} query={throughput}>
        {(d) => (
          <>
            <EChart
              option={throughputOption(d.rows, period, thrNames, t('hourOfDay'))}
              label={`${t('throughput')}: ${THROUGHPUT_MEASURES.map((m) => `${thrNames[m]} ${total(d.rows, m)}`).join(', ')}`}
              id="throughput-chart"
            />
            <p>
              {t('thrSummary')}: {thrNames.orders} <output id="thr-orders">{total(d.rows, 'orders')}</output> ·{' '}
              {thrNames.results} <output id="thr-results">{total(d.rows, 'results')}</output> · {thrNames.completed}{' '}
              <output id="thr-completed">{total(d.rows, 'completed')}</output>
            </p>
          </>
        )}
      </Section>
      <Section id="utilisation" title={t('utilisation')} query={utilisation}>
        {(d) =>
          d.utilisation.length === 0 ? (
            <p>{t('noCapacity')}</p>
          ) : (
            <>
              <EChart
                option={utilisationOption(d.utilisation, t('utilisationPct'))}
                label={`${t('utilisation')}: ${d.utilisation.map((u) => `${u.unit} ${pct(u.utilisation * 100)} %`).join(', ')}`}
                id="utilisation-chart"
                height={Math.max(160, 28 * d.utilisation.length + 48)}
              />
              <table id="utilisation-table">
                <thead>
                  <tr>
                    <th scope="col">{t('unit')}</th>
                    <th scope="col">{t('resultsPerHour')}</th>
                    <th scope="col">{t('capacityPerHour')}</th>
                    <th scope="col">{t('utilisationPct')}</th>
                  </tr>
                </thead>
                <tbody>
                  {[...d.utilisation]
                    .sort((a, b) => b.utilisation - a.utilisation)
                    .map((u) => (
                      <tr key={u.unit} data-unit={u.unit}>
                        <th scope="row">{u.unit}</th>
                        <td>{pct(u.resultsPerHour)}</td>
                        <td>{u.capacityPerHour}</td>
                        <td>{pct(u.utilisation * 100)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </>
          )
        }
      </Section>
      {health.data !== undefined || health.loading || health.error ? (
        <Section id="health" title={t('health')} query={health}>
          {(d) => {
            const rows = healthRows(d);
            if (rows.length === 0) return <p>{t('noInterfaces')}</p>;
            return (
              <>
                <EChart
                  option={healthOption(rows, { messages: t('messages24h'), errors: t('errors'), queue: t('queue') })}
                  label={`${t('health')}: ${rows.map((r) => `${r.name} ${r.messagesInWindow}`).join(', ')}`}
                  id="health-chart"
                  height={Math.max(160, 26 * rows.length + 64)}
                />
                <table id="health-table">
                  <thead>
                    <tr>
                      <th scope="col">{t('sender')}</th>
                      <th scope="col">{t('kind')}</th>
                      <th scope="col">{t('lastContact')}</th>
                      <th scope="col">{t('messages24h')}</th>
                      <th scope="col">{t('errors')}</th>
                      <th scope="col">{t('queue')}</th>
                      <th scope="col">{t('silence')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => (
                      <tr key={`${r.kind}|${r.name}`} data-sender={r.name} className={r.silent ? 'silent' : undefined}>
                        <th scope="row">{r.name}</th>
                        <td>{r.kind}</td>
                        <td>
                          <When at={r.lastContact ?? undefined} locale={locale} />
                        </td>
                        <td className="messages">{r.messagesInWindow}</td>
                        <td>{r.errors}</td>
                        <td>{r.queueDepth}</td>
                        <td>
                          {r.silent ? (
                            <strong className="badge critical">
                              {t('silentFor')} {r.silentMinutes} {t('minutes')}
                            </strong>
                          ) : (
                            t('ok')
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            );
          }}
        </Section>
      ) : null}
      <Section id="tat-section" title={`${t('tat')} ${t('bySection')}`} query={bySection}>
        {(d) => (
          <>
            <EChart option={tatOption(d.rows, measure, t)} label={`${t('tat')} ${t('bySection')}`} id="tat-chart" />
            <IndicatorTable rows={d.rows} id="tat-section-table" measure={measure} />
          </>
        )}
      </Section>
      <Section id="tat-analysis" title={`${t('tat')} ${t('byAnalysis')}`} query={byAnalysis}>
        {(d) => <IndicatorTable rows={d.rows} id="tat-analysis-table" measure={measure} />}
      </Section>
      <Section id="wip" title={t('wip')} query={wip}>
        {(d) => (
          <p>
            {t('overdue')}: <output id="overdue">{d.overdue.length}</output> · {t('atRisk')}: {d.atRisk.length}
          </p>
        )}
      </Section>
      <Section id="alerts" title={t('alerts')} query={alerts}>
        {(d) =>
          d.alerts.length === 0 ? (
            <p>{t('noneYet')}</p>
          ) : (
            <ul>
              {d.alerts.map((a) => (
                <li key={`${a.section}${a.kind}`}>
                  {a.section}: {a.message ?? a.kind}
                </li>
              ))}
            </ul>
          )
        }
      </Section>
      {patterns.data !== undefined || patterns.loading ? (
        <Section id="patterns" title={t('patterns')} query={patterns}>
          {(d) => (
            <>
              <EChart option={funnelOption(d.rows)} label={t('funnel')} id="funnel-chart" />
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('drill')}</th>
                    <th scope="col">{t('proposals')}</th>
                    <th scope="col">{t('blockRate')}</th>
                    <th scope="col">{t('overrideRate')}</th>
                    <th scope="col">{t('funnel')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.rows.map((r) => (
                    <tr key={r.key}>
                      <th scope="row">{r.key}</th>
                      <td>{r.proposals}</td>
                      <td>{pct(r.blockRate * 100)}</td>
                      <td>{pct(r.overrideRate * 100)}</td>
                      <td>{r.funnel.position}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </Section>
      ) : null}
    </div>
  );
}

/** The live chart's last five minutes, ending at the newest point. */
function liveRange(xs: ArrayLike<number>): uPlot.Range.MinMax {
  const last = xs.length ? xs[xs.length - 1]! : Date.now() / 1000;
  return [last - 300, last];
}

function depth(code: string, nodes: { code: string; parent: string | null }[]): number {
  let d = 0;
  for (let p = nodes.find((n) => n.code === code)?.parent; p && d < 6; p = nodes.find((n) => n.code === p)?.parent) d++;
  return d;
}
