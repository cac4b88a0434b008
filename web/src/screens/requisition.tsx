import { useContext, useState } from 'react';
import { ApiError, call } from '../api.ts';
import { ErrorNote, Section, When } from '../components/section.tsx';
import { LangContext, useLocale, useText } from '../i18n.ts';
import type { RoleKind } from '../lib/session.ts';
import { useQuery } from '../use-query.ts';

type Text = { da: string; en: string };
interface CatalogueHit {
  kind: 'lab' | 'imaging' | 'order-set';
  id: string;
  title: string;
  tests?: string[];
  performer?: string;
  specimen?: { type: string; container: string } | null;
}
interface Summary {
  openOrders: { test: string; status: string; organisation?: string; authoredOn?: string }[];
  latestResults: { test: string; effective?: string; value?: number; unit?: string }[];
}
export interface Finding {
  rule: string;
  action: 'info' | 'warning' | 'block';
  orderId: string;
  test: string;
  summary: Text;
  detail: Text;
  source: { label: string; url?: string };
  overrideRoles?: string[];
}
interface Created {
  requisition: string;
  findings: Finding[];
}

const ACTION = { info: 'cardInfo', warning: 'cardWarning', block: 'cardBlock' } as const;
const key = (f: { rule: string; test: string }) => `${f.rule}|${f.test}`;
const post = <T,>(path: string, body: unknown, signal?: AbortSignal) =>
  call<T>(path, { method: 'POST', body: JSON.stringify(body), ...(signal ? { signal } : {}) });

/** A card the user may override: a warning (with a reason), a block only by a role it names. */
export const overridable = (f: Finding, role: RoleKind) =>
  f.action === 'warning' || (f.action === 'block' && (f.overrideRoles ?? []).includes(role));

/**
 * Order entry (docs/ordering.md): search the catalogue and order sets, the patient's latest result
 * and open orders shown against each chosen test, the rules' cards as the order is built
 * (`/ordering/check`), reasons for overrides, and signing — the server refuses an unlifted block
 * and its OperationOutcome is shown as it is.
 */
export function Requisition(props: { role: RoleKind; patient?: string }) {
  const t = useText();
  const lang = useContext(LangContext);
  const locale = useLocale();
  const [patient, setPatient] = useState(props.patient ?? '');
  const [q, setQ] = useState('');
  const [tests, setTests] = useState<string[]>([]);
  const [titles, setTitles] = useState<Record<string, string>>({});
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<{ signed?: string; error?: Error; busy?: boolean }>({});
  const summary = useQuery(
    patient
      ? (signal) => call<Summary>(`/ordering/patients/${encodeURIComponent(patient)}/summary`, { signal })
      : undefined,
    [patient],
  );
  const hits = useQuery(
    q.trim()
      ? (signal) =>
          call<{ results: CatalogueHit[] }>(`/ordering/catalogue?lang=${lang}&q=${encodeURIComponent(q)}`, { signal })
      : undefined,
    [q, lang],
  );
  const cards = useQuery(
    patient && tests.length
      ? (signal) =>
          post<{ findings: Finding[] }>(
            '/ordering/check',
            { patientId: patient, orders: tests.map((test) => ({ test })) },
            signal,
          )
      : undefined,
    [patient, tests.join()],
  );
  const add = (h: CatalogueHit) => {
    const ids = h.kind === 'order-set' ? (h.tests ?? []) : [h.id];
    setTests((cur) => [...cur, ...ids.filter((i) => !cur.includes(i))]);
    setTitles((cur) => ({ ...cur, ...(h.kind === 'order-set' ? {} : { [h.id]: h.title }) }));
    setOutcome({});
  };
  const sign = async () => {
    setOutcome({ busy: true });
    let created: Created | undefined;
    try {
      created = await post<Created>('/ordering/requisitions', {
        patientId: patient,
        orders: tests.map((test) => ({ test })),
      });
      const overrides = created.findings
        .filter((f) => f.action !== 'info' && reasons[key(f)]?.trim())
        .map((f) => ({ rule: f.rule, orderId: f.orderId, reason: reasons[key(f)]!.trim() }));
      await post(`/ordering/requisitions/${created.requisition}/sign`, { overrides });
      setOutcome({ signed: created.requisition });
      setTests([]);
      setReasons({});
      summary.reload();
    } catch (e) {
      // A refused draft is withdrawn, so it lingers nowhere; the refusal is what the user sees.
      if (created && e instanceof ApiError)
        await post(`/ordering/requisitions/${created.requisition}/revoke`, { reason: 'signing refused' }).catch(
          () => {},
        );
      setOutcome({ error: e as Error });
    }
  };
  const latest = (test: string) => summary.data?.latestResults.find((r) => r.test === test);
  const open = (test: string) => summary.data?.openOrders.filter((o) => o.test === test) ?? [];
  return (
    <div id="requisition" className="screen">
      <h2>{t('navOrder')}</h2>
      <form onSubmit={(e) => e.preventDefault()} className="row">
        <label htmlFor="order-patient">{t('patientId')}</label>
        <input id="order-patient" defaultValue={patient} onBlur={(e) => setPatient(e.target.value.trim())} />
        <label htmlFor="order-q">{t('catalogue')}</label>
        <input id="order-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off" />
      </form>
      <Section id="catalogue" title={t('catalogue')} query={hits}>
        {(d) => (
          <ul className="hits">
            {d.results.map((h) => (
              <li key={h.id}>
                <button type="button" data-add={h.id} onClick={() => add(h)}>
                  {t('add')}
                </button>{' '}
                <strong>{h.title}</strong>{' '}
                <span className="muted">{h.kind === 'order-set' ? h.tests?.join(', ') : h.performer}</span>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <section id="basket" aria-labelledby="basket-h">
        <h3 id="basket-h">{t('basket')}</h3>
        {tests.length === 0 && <p>{t('emptyBasket')}</p>}
        <ul>
          {tests.map((test) => {
            const r = latest(test);
            return (
              <li key={test} data-test={test}>
                <strong>{titles[test] ?? test}</strong>{' '}
                {r && (
                  <span className="prior">
                    {t('lastResult')}: {r.value ?? '–'} {r.unit ?? ''} (<When at={r.effective} locale={locale} />)
                  </span>
                )}{' '}
                {open(test).map((o) => (
                  <span key={o.authoredOn} className="badge">
                    {t('openOrder')} ({o.status}, {o.organisation ?? ''})
                  </span>
                ))}{' '}
                <button type="button" onClick={() => setTests((cur) => cur.filter((x) => x !== test))}>
                  {t('remove')}
                </button>
              </li>
            );
          })}
        </ul>
      </section>
      <Section id="cards" title={t('decisionSupport')} query={cards}>
        {(d) =>
          d.findings.length === 0 ? (
            <p>{t('noCards')}</p>
          ) : (
            d.findings.map((f) => (
              <article key={key(f)} className={`card card-${f.action}`} data-rule={f.rule} data-action={f.action}>
                <h4>
                  {t(ACTION[f.action])} · {f.summary[lang]}
                </h4>
                <p>{f.detail[lang]}</p>
                <p className="muted">{f.source.url ? <a href={f.source.url}>{f.source.label}</a> : f.source.label}</p>
                {f.action !== 'info' &&
                  (overridable(f, props.role) ? (
                    <label>
                      {t('overrideReason')}{' '}
                      <input
                        className="override-reason"
                        value={reasons[key(f)] ?? ''}
                        onChange={(e) => setReasons((cur) => ({ ...cur, [key(f)]: e.target.value }))}
                      />
                    </label>
                  ) : (
                    <p className="muted">{t('notOverridable')}</p>
                  ))}
              </article>
            ))
          )
        }
      </Section>
      <p>
        <button type="button" id="sign" disabled={!patient || tests.length === 0 || outcome.busy} onClick={sign}>
          {t('sign')}
        </button>
      </p>
      <div aria-live="polite">
        {outcome.signed && (
          <p id="signed" className="notice">
            {t('signed')}: {outcome.signed}
          </p>
        )}
        {outcome.error && <ErrorNote error={outcome.error} />}
      </div>
    </div>
  );
}
