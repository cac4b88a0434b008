import type {
  DiagnosticReport,
  ImagingStudy,
  Observation,
  Patient,
  Provenance,
  ServiceRequest,
} from '@medplum/fhirtypes';
import { useMemo, useState } from 'react';
import { ApiError, call, search } from '../api.ts';
import { OrgName, OrgNamesProvider } from '../components/org-name.tsx';
import { ErrorNote, Section, When } from '../components/section.tsx';
import { TrendChart } from '../components/trend-chart.tsx';
import { VaerdispringDialog } from '../components/vaerdispring-dialog.tsx';
import { useLocale, useText } from '../i18n.ts';
import { formatCpr, patientName } from '../lib/patient.ts';
import {
  cellKey,
  cumulativeTable,
  displayValue,
  flag,
  isCritical,
  type Origin,
  originIndex,
  timeline,
  trendPoints,
} from '../lib/results.ts';
import { useQuery } from '../use-query.ts';

/**
 * "Data follows the patient": every lab result and imaging study across organisations on one
 * timeline, the cumulative lab table, trend charts, open orders and reports, each with its origin.
 * Each part loads on its own; a refusal for want of a treatment relation opens the værdispring
 * dialog, and every part is asked again with the user's reason.
 */
export function PatientOverview(props: { patientId: string; vaerdispring?: string }) {
  const t = useText();
  const locale = useLocale();
  const [vd, setVd] = useState(props.vaerdispring);
  const [asking, setAsking] = useState(false);
  const id = props.patientId;
  const opts = (signal: AbortSignal) => ({ signal, ...(vd ? { vaerdispring: vd } : {}) });
  const subject = `subject=Patient/${encodeURIComponent(id)}`;
  const patient = useQuery((s) => call<Patient>(`/fhir/Patient/${encodeURIComponent(id)}`, opts(s)), [id, vd]);
  const labs = useQuery(
    (s) =>
      search<Observation>(
        `/fhir/Observation?${subject}&category=laboratory&_sort=-date&_count=500&_revinclude=Provenance:target`,
        opts(s),
      ),
    [id, vd],
  );
  const studies = useQuery((s) => search<ImagingStudy>(`/fhir/ImagingStudy?${subject}&_count=100`, opts(s)), [id, vd]);
  const reports = useQuery(
    (s) =>
      search<DiagnosticReport>(
        `/fhir/DiagnosticReport?${subject}&_sort=-date&_count=100&_revinclude=Provenance:target`,
        opts(s),
      ),
    [id, vd],
  );
  const orders = useQuery(
    (s) => search<ServiceRequest>(`/fhir/ServiceRequest?${subject}&status=active,draft&_count=100`, opts(s)),
    [id, vd],
  );
  const refused = patient.error instanceof ApiError && patient.error.overridable;
  const origins = useMemo(
    () =>
      originIndex(
        [...(labs.data?.included ?? []), ...(reports.data?.included ?? [])].filter(
          (r): r is Provenance => r.resourceType === 'Provenance',
        ),
      ),
    [labs.data, reports.data],
  );
  const observations = labs.data?.matches ?? [];
  const table = useMemo(() => cumulativeTable(observations), [observations]);
  const chartWidth = Math.max(260, Math.min(520, window.innerWidth - 64));

  return (
    <article className="overview" aria-labelledby="patient-h">
      <header className="patient-header">
        <h2 id="patient-h">
          {patient.data ? patientName(patient.data) : id}
          {patient.data && (
            <small>
              {' '}
              · {t('cpr')} {formatCpr(patient.data)} · {t('born')} {patient.data.birthDate}
            </small>
          )}
        </h2>
        {vd && <p className="badge warning">{t('vdActive')}</p>}
      </header>
      {patient.loading && <p role="status">{t('loading')}</p>}
      {patient.error && !refused && <ErrorNote error={patient.error} onRetry={patient.reload} />}
      {refused && (
        <div className="refused" role="alert">
          <p>{patient.error?.message}</p>
          <button type="button" className="primary" onClick={() => setAsking(true)}>
            {t('useVaerdispring')}
          </button>
        </div>
      )}
      {asking && (
        <VaerdispringDialog
          onCancel={() => setAsking(false)}
          onConfirm={(header) => {
            setAsking(false);
            setVd(header);
          }}
        />
      )}
      {!refused && (
        <OrgNamesProvider>
          <div className="grid">
            <Section id="cumulative" title={t('cumulative')} query={labs}>
              {() => <Cumulative table={table} origins={origins} locale={locale} />}
            </Section>
            <Section id="trends" title={t('trends')} query={labs}>
              {() =>
                table.analyses.length === 0 ? (
                  <p>{t('noData')}</p>
                ) : (
                  <div className="trends">
                    {table.analyses.map((a) => (
                      <TrendChart
                        key={a.key}
                        title={a.label}
                        unit={a.unit}
                        points={trendPoints(observations, a.key)}
                        width={chartWidth}
                      />
                    ))}
                  </div>
                )
              }
            </Section>
            <Section id="orders" title={t('orders')} query={orders}>
              {(d) => <Orders orders={d.matches} locale={locale} />}
            </Section>
            <Section id="reports" title={t('reports')} query={reports}>
              {(d) => <Reports reports={d.matches} origins={origins} observations={observations} locale={locale} />}
            </Section>
            <Section id="timeline" title={t('timeline')} query={merged(labs, studies, reports)}>
              {(d) => (
                <>
                  {d.notes.map((n) => (
                    <p key={n} className="notice">
                      {n}
                    </p>
                  ))}
                  <Timeline
                    entries={timeline(d.observations, d.studies, d.reports)}
                    origins={origins}
                    locale={locale}
                  />
                </>
              )}
            </Section>
          </div>
        </OrgNamesProvider>
      )}
    </article>
  );
}

const refOf = (refs: readonly { reference?: string }[] | undefined) =>
  refs?.[0]?.reference ? { reference: refs[0].reference } : {};

type Part<T> = ReturnType<typeof useQuery<{ matches: T[] }>>;

/**
 * The timeline's three queries as one: loading until all have answered; a part the user's role may
 * not search (a lab role and ImagingStudy) leaves a note instead of hiding the rest.
 */
function merged(a: Part<Observation>, b: Part<ImagingStudy>, c: Part<DiagnosticReport>) {
  const loading = a.loading || b.loading || c.loading;
  const failed = [a, b, c].filter((q) => q.error);
  const data = loading
    ? undefined
    : {
        observations: a.data?.matches ?? [],
        studies: b.data?.matches ?? [],
        reports: c.data?.matches ?? [],
        notes: failed.map((q) => q.error!.message),
      };
  return {
    loading,
    ...(failed.length === 3 ? { error: failed[0]!.error! } : {}),
    ...(data && failed.length < 3 ? { data } : {}),
    reload: () => {
      a.reload();
      b.reload();
      c.reload();
    },
  };
}

function OriginText(props: { origin?: Origin }) {
  if (!props.origin) return <span className="muted">—</span>;
  const { agents, source } = props.origin;
  return (
    <span className="origin">
      {agents.join(', ')}
      {source && <small> · {source}</small>}
    </span>
  );
}

/** A cell's tooltip: where the value came from. */
const originTitle = (o: Origin | undefined) =>
  o ? [o.agents.join(', '), o.source].filter(Boolean).join(' · ') : undefined;

function FlagBadge(props: { code?: string }) {
  const t = useText();
  if (!props.code || props.code === 'N') return null;
  const critical = isCritical(props.code);
  return (
    <span className={`flag ${critical ? 'critical' : 'abnormal'}`} title={critical ? t('critical') : props.code}>
      {critical ? `${props.code}!` : props.code}
    </span>
  );
}

function Timeline(props: { entries: ReturnType<typeof timeline>; origins: Map<string, Origin>; locale: string }) {
  const t = useText();
  if (props.entries.length === 0) return <p>{t('noData')}</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('when')}</th>
          <th scope="col">{t('type')}</th>
          <th scope="col">{t('what')}</th>
          <th scope="col">{t('where')}</th>
          <th scope="col">{t('origin')}</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => {
          const [kind, what, ref] =
            e.kind === 'lab'
              ? [
                  t('lab'),
                  <>
                    {e.observation.code?.text} {displayValue(e.observation)} {e.observation.valueQuantity?.unit}{' '}
                    <FlagBadge code={flag(e.observation)} />
                  </>,
                  `Observation/${e.observation.id}`,
                ]
              : e.kind === 'imaging'
                ? [
                    t('imaging'),
                    <>
                      {e.study.modality?.map((m) => m.code).join('/')} {e.study.description}
                    </>,
                    `ImagingStudy/${e.study.id}`,
                  ]
                : [
                    t('report'),
                    e.report.code?.text ?? e.report.code?.coding?.[0]?.display,
                    `DiagnosticReport/${e.report.id}`,
                  ];
          return (
            <tr key={ref} className={e.kind === 'lab' && isCritical(flag(e.observation)) ? 'critical-row' : undefined}>
              <td>
                <When at={e.at} locale={props.locale} />
              </td>
              <td>{kind}</td>
              <td>{what}</td>
              <td>
                <OrgName {...(e.org ? { reference: e.org } : {})} />
              </td>
              <td>
                <OriginText origin={props.origins.get(ref)} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Cumulative(props: {
  table: ReturnType<typeof cumulativeTable>;
  origins: Map<string, Origin>;
  locale: string;
}) {
  const t = useText();
  const { analyses, times, cells } = props.table;
  if (analyses.length === 0) return <p>{t('noData')}</p>;
  return (
    <div className="scroll">
      <table className="cumulative">
        <thead>
          <tr>
            <th scope="col">{t('analysis')}</th>
            <th scope="col">{t('referenceInterval')}</th>
            {times.map((at) => (
              <th scope="col" key={at}>
                <When at={at} locale={props.locale} />
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {analyses.map((a) => {
            const any = times.map((at) => cells.get(cellKey(a.key, at))).find(Boolean);
            const range = any?.referenceRange?.[0];
            return (
              <tr key={a.key}>
                <th scope="row">
                  {a.label} <span className="unit">({a.unit})</span>
                </th>
                <td>{range ? `${range.low?.value ?? ''}–${range.high?.value ?? ''}` : ''}</td>
                {times.map((at) => {
                  const o = cells.get(cellKey(a.key, at));
                  const f = o ? flag(o) : undefined;
                  return (
                    <td
                      key={at}
                      className={isCritical(f) ? 'critical' : f && f !== 'N' ? 'abnormal' : undefined}
                      title={originTitle(o && props.origins.get(`Observation/${o.id}`))}
                    >
                      {o ? displayValue(o) : ''} <FlagBadge code={f} />
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Orders(props: { orders: ServiceRequest[]; locale: string }) {
  const t = useText();
  if (props.orders.length === 0) return <p>{t('noData')}</p>;
  return (
    <ul className="orders">
      {props.orders.map((o) => (
        <li key={o.id}>
          <span className={`badge ${o.status}`}>{o.status}</span> {o.code?.text ?? o.code?.coding?.[0]?.display} →{' '}
          <OrgName {...refOf(o.performer)} /> · <When at={o.authoredOn} locale={props.locale} />
        </li>
      ))}
    </ul>
  );
}

function Reports(props: {
  reports: DiagnosticReport[];
  origins: Map<string, Origin>;
  observations: Observation[];
  locale: string;
}) {
  const t = useText();
  if (props.reports.length === 0) return <p>{t('noData')}</p>;
  const byRef = new Map(props.observations.map((o) => [`Observation/${o.id}`, o]));
  return (
    <ul className="reports">
      {props.reports.map((r) => (
        <li key={r.id}>
          <details>
            <summary>
              <When at={r.effectiveDateTime ?? r.issued} locale={props.locale} /> ·{' '}
              {r.code?.text ?? r.code?.coding?.[0]?.display} · <OrgName {...refOf(r.performer)} />{' '}
              <span className={`badge ${r.status}`}>{r.status}</span>
            </summary>
            {r.conclusion && <p>{r.conclusion}</p>}
            <ul>
              {(r.result ?? []).map((ref) => {
                const o = ref.reference ? byRef.get(ref.reference) : undefined;
                return (
                  <li key={ref.reference}>
                    {o ? `${o.code?.text}: ${displayValue(o)} ${o.valueQuantity?.unit ?? ''}` : ref.reference}
                  </li>
                );
              })}
            </ul>
            <p>
              {t('origin')}: <OriginText origin={props.origins.get(`DiagnosticReport/${r.id}`)} />
            </p>
          </details>
        </li>
      ))}
    </ul>
  );
}
