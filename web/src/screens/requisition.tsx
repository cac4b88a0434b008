import type { Patient } from '@medplum/fhirtypes';
import { useContext, useRef, useState } from 'react';
import { ApiError, call, search, withheldForRelation } from '../api.ts';
import { ErrorNote, Section, When } from '../components/section.tsx';
import { LangContext, useLocale, useText } from '../i18n.ts';
import {
  type CdsCard,
  type Coding,
  cardInfo,
  INDICATION_LABELS,
  indicationsFor,
  ORDER_SELECT,
  type OrderDetails,
  orderSelectRequest,
  overridable,
} from '../lib/cds.ts';
import { cprDigits, formatCpr, patientName, patientQuery } from '../lib/patient.ts';
import type { RoleKind } from '../lib/session.ts';
import { useQuery } from '../use-query.ts';

type Text = { da: string; en: string };
interface CatalogueHit {
  kind: 'lab' | 'imaging' | 'order-set';
  id: string;
  title: string;
  code?: Coding;
  tests?: string[];
  items?: { id: string; code?: Coding; title?: string }[];
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
const post = <T,>(path: string, body: unknown, signal?: AbortSignal, lang?: string) =>
  call<T>(path, {
    method: 'POST',
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
    ...(lang ? { lang } : {}),
  });

/**
 * Order entry (docs/ordering.md): search the catalogue and order sets, the patient's latest result
 * and open orders shown against each chosen test, the rules' cards as the order is built
 * (`/ordering/check`), reasons for overrides, and signing — the server refuses an unlifted block
 * and its OperationOutcome is shown as it is.
 */
export function Requisition(props: { role: RoleKind; user: string; patient?: string }) {
  const t = useText();
  const lang = useContext(LangContext);
  const locale = useLocale();
  const [patient, setPatient] = useState(props.patient ?? '');
  const [lookup, setLookup] = useState<{ problem?: string; busy?: boolean }>({});
  // The patient field takes a CPR number (looked up, exactly one match) or a patient id. Enter and
  // leaving the field both choose; the same text is not looked up (and audited) twice.
  const chosen = useRef(props.patient ?? '');
  const choosePatient = async (text: string) => {
    const value = text.trim();
    if (value === chosen.current) return;
    chosen.current = value;
    const digits = cprDigits(value);
    if (!digits) {
      setLookup({});
      setPatient(value);
      return;
    }
    setLookup({ busy: true });
    try {
      const found = await search<Patient>(patientQuery(digits));
      const only = found.matches.length === 1 ? found.matches[0] : undefined;
      if (only?.id) {
        setLookup({});
        setPatient(only.id);
      } else {
        setPatient('');
        setLookup({ problem: t(withheldForRelation(found.notes) ? 'withheld' : 'noPatients') });
      }
    } catch (e) {
      chosen.current = ''; // a failed look-up may be asked again
      setPatient('');
      setLookup({ problem: (e as Error).message });
    }
  };
  // Whose order this is, shown before anything is signed.
  const who = useQuery(
    patient ? (signal) => call<Patient>(`/fhir/Patient/${encodeURIComponent(patient)}`, { signal }) : undefined,
    [patient],
  );
  const [q, setQ] = useState('');
  const [tests, setTests] = useState<string[]>([]);
  const [titles, setTitles] = useState<Record<string, string>>({});
  const [codes, setCodes] = useState<Record<string, Coding>>({});
  const [reasonCodes, setReasonCodes] = useState<Record<string, string>>({});
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<{ signed?: string; error?: Error; busy?: boolean }>({});
  // Clinical details the rules read: priority, setting (default: from the patient's encounter),
  // symptom onset and indications (only those the active rules of the chosen tests ask about).
  const [priority, setPriority] = useState<NonNullable<OrderDetails['priority']>>('routine');
  const [setting, setSetting] = useState('');
  const [onset, setOnset] = useState('');
  const [indications, setIndications] = useState<string[]>([]);
  const ruleSet = useQuery(
    (signal) => call<{ ruleSet: { rules: Parameters<typeof indicationsFor>[0] } }>('/ordering/rulesets', { signal }),
    [],
  );
  const indicationChoices = indicationsFor(ruleSet.data?.ruleSet.rules ?? [], tests);
  const chosenIndications = indications.filter((c) => indicationChoices.includes(c));
  const details: OrderDetails = {
    priority,
    ...(chosenIndications.length ? { indications: chosenIndications } : {}),
    ...(onset ? { onset } : {}),
  };
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
  // Live cards: the CDS Hooks `order-select` service with the basket as draft orders, asked again
  // on every change of the basket (the same engine and rule set as signing).
  const drafts = tests.flatMap((id) => (codes[id] ? [{ id, code: codes[id] }] : []));
  const cards = useQuery(
    patient && drafts.length
      ? (signal) =>
          post<{ cards: CdsCard[] }>(
            ORDER_SELECT,
            orderSelectRequest(props.user, patient, drafts, crypto.randomUUID(), details),
            signal,
            lang,
          )
      : undefined,
    [patient, drafts.map((d) => d.id).join(), lang, priority, chosenIndications.join(), onset],
  );
  const add = (h: CatalogueHit) => {
    const items =
      h.kind === 'order-set'
        ? (h.items ?? []).flatMap((i) => (i.code ? [{ id: i.id, code: i.code, title: i.title ?? i.id }] : []))
        : h.code
          ? [{ id: h.id, code: h.code, title: h.title }]
          : [];
    setTests((cur) => [...cur, ...items.map((i) => i.id).filter((i) => !cur.includes(i))]);
    setTitles((cur) => ({ ...cur, ...Object.fromEntries(items.map((i) => [i.id, i.title])) }));
    setCodes((cur) => ({ ...cur, ...Object.fromEntries(items.map((i) => [i.id, i.code])) }));
    setOutcome({});
  };
  /** CDS Hooks feedback (§Feedback): what became of a card. Best effort: it never blocks the user. */
  const feedback = (card: CdsCard, body: Record<string, unknown>) =>
    post(`${ORDER_SELECT}/feedback`, {
      feedback: [{ card: card.uuid, outcomeTimestamp: new Date().toISOString(), ...body }],
    }).catch(() => {});
  /** Applies a suggestion: `delete` removes the draft from the basket, `create` adds the test it names. */
  const accept = async (card: CdsCard, suggestion: NonNullable<CdsCard['suggestions']>[number]) => {
    for (const a of suggestion.actions ?? []) {
      if (a.type === 'delete' && a.resourceId) {
        const test = a.resourceId.replace(/^ServiceRequest\/draft-/, '');
        setTests((cur) => cur.filter((x) => x !== test));
      } else if (a.type === 'create' && a.resource?.code?.coding?.[0]) {
        const coding = a.resource.code.coding[0];
        const found = await call<{ results: CatalogueHit[] }>(
          `/ordering/catalogue?lang=${lang}&q=${encodeURIComponent(a.resource.code.text ?? coding.code)}`,
        ).catch(() => undefined);
        const hit = found?.results.find((h) => h.code?.system === coding.system && h.code?.code === coding.code);
        if (hit) add(hit);
      }
    }
    void feedback(card, { outcome: 'accepted', acceptedSuggestions: [{ id: suggestion.uuid }] });
  };
  const sign = async () => {
    setOutcome({ busy: true });
    let created: Created | undefined;
    try {
      created = await post<Created>('/ordering/requisitions', {
        patientId: patient,
        priority,
        ...(setting ? { setting } : {}),
        ...(chosenIndications.length ? { indications: chosenIndications } : {}),
        ...(onset ? { onset } : {}),
        orders: tests.map((test) => ({ test })),
      });
      const reasonOf = (k: string) => {
        const coded = cards.data?.cards.flatMap((c) => c.overrideReasons ?? []).find((c) => c.code === reasonCodes[k]);
        const text = reasons[k]?.trim() ?? '';
        return [coded?.display ?? coded?.code, text].filter(Boolean).join(': ');
      };
      const overrides = created.findings
        .filter((f) => f.action !== 'info' && reasonOf(key(f)))
        .map((f) => ({ rule: f.rule, orderId: f.orderId, reason: reasonOf(key(f)) }));
      await post(`/ordering/requisitions/${created.requisition}/sign`, { overrides });
      // The overridden cards, reported to the CDS service with the reason given.
      for (const card of cards.data?.cards ?? []) {
        const k = key(cardInfo(card));
        if (!reasonOf(k)) continue;
        const coded = card.overrideReasons?.find((c) => c.code === reasonCodes[k]);
        void feedback(card, {
          outcome: 'overridden',
          overrideReason: { ...(coded ? { reason: coded } : {}), userComment: reasons[k]?.trim() ?? '' },
        });
      }
      setOutcome({ signed: created.requisition });
      setTests([]);
      setReasons({});
      setReasonCodes({});
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
        <label htmlFor="order-patient">{t('orderPatient')}</label>
        <input
          id="order-patient"
          defaultValue={patient}
          placeholder={t('findHelp')}
          autoComplete="off"
          onBlur={(e) => void choosePatient(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') void choosePatient(e.currentTarget.value);
          }}
        />
        <label htmlFor="order-q">{t('catalogue')}</label>
        <input id="order-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off" />
      </form>
      <p id="order-for" role="status" aria-busy={lookup.busy || who.loading}>
        {lookup.problem ? (
          <span className="error">{lookup.problem}</span>
        ) : who.data ? (
          <>
            <strong>{patientName(who.data)}</strong> · CPR {formatCpr(who.data)}
            {who.data.birthDate ? ` · ${who.data.birthDate}` : ''}
          </>
        ) : who.error ? (
          <span className="error">{who.error.message}</span>
        ) : null}
      </p>
      <fieldset id="order-details">
        <legend>{t('clinicalDetails')}</legend>
        <label htmlFor="order-priority">{t('priority')}</label>
        <select
          id="order-priority"
          value={priority}
          onChange={(e) => setPriority(e.target.value as NonNullable<OrderDetails['priority']>)}
        >
          <option value="routine">{t('priorityRoutine')}</option>
          <option value="urgent">{t('priorityUrgent')}</option>
          <option value="stat">{t('priorityStat')}</option>
        </select>
        <label htmlFor="order-setting">{t('setting')}</label>
        <select id="order-setting" value={setting} onChange={(e) => setSetting(e.target.value)}>
          <option value="">{t('settingFromEncounter')}</option>
          <option value="inpatient">{t('settingInpatient')}</option>
          <option value="icu">{t('settingIcu')}</option>
          <option value="emergency">{t('settingEmergency')}</option>
          <option value="outpatient">{t('settingOutpatient')}</option>
          <option value="primary-care">{t('settingPrimaryCare')}</option>
        </select>
        <label htmlFor="order-onset">{t('onset')}</label>
        <input id="order-onset" type="date" value={onset} onChange={(e) => setOnset(e.target.value)} />
        {indicationChoices.length > 0 && (
          <fieldset id="order-indications">
            <legend>{t('indications')}</legend>
            {indicationChoices.map((code) => (
              <label key={code} className="check">
                <input
                  type="checkbox"
                  data-indication={code}
                  checked={indications.includes(code)}
                  onChange={(e) =>
                    setIndications((cur) => (e.target.checked ? [...cur, code] : cur.filter((c) => c !== code)))
                  }
                />{' '}
                {INDICATION_LABELS[code]?.[lang] ?? code}
              </label>
            ))}
          </fieldset>
        )}
      </fieldset>
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
          d.cards.length === 0 ? (
            <p>{t('noCards')}</p>
          ) : (
            d.cards.map((card) => {
              const f = cardInfo(card);
              const k = key(f);
              return (
                <article
                  key={card.uuid}
                  className={`card card-${f.action}`}
                  data-rule={f.rule}
                  data-action={f.action}
                  data-indicator={card.indicator}
                  data-test={f.test}
                  aria-labelledby={`card-${card.uuid}`}
                >
                  <h4 id={`card-${card.uuid}`}>
                    {t(ACTION[f.action])} · {card.summary}
                  </h4>
                  {card.detail && <p className="detail">{card.detail}</p>}
                  <p className="muted">
                    {card.source.url ? <a href={card.source.url}>{card.source.label}</a> : card.source.label}
                  </p>
                  {(card.suggestions ?? []).map((sg) => (
                    <button
                      type="button"
                      key={sg.uuid}
                      className="suggestion"
                      data-suggestion={sg.uuid}
                      onClick={() => void accept(card, sg)}
                    >
                      {t('applySuggestion')}: {sg.label}
                    </button>
                  ))}
                  {f.action !== 'info' &&
                    (overridable(f, props.role) ? (
                      <fieldset className="override">
                        <legend>{t('overrideReason')}</legend>
                        {(card.overrideReasons ?? []).length > 0 && (
                          <>
                            <label htmlFor={`reason-code-${card.uuid}`}>{t('reasonCode')}</label>{' '}
                            <select
                              id={`reason-code-${card.uuid}`}
                              className="override-code"
                              value={reasonCodes[k] ?? ''}
                              onChange={(e) => setReasonCodes((cur) => ({ ...cur, [k]: e.target.value }))}
                            >
                              <option value="">–</option>
                              {card.overrideReasons!.map((c) => (
                                <option key={c.code} value={c.code}>
                                  {c.display ?? c.code}
                                </option>
                              ))}
                            </select>{' '}
                          </>
                        )}
                        <label htmlFor={`reason-${card.uuid}`}>{t('reasonComment')}</label>{' '}
                        <input
                          id={`reason-${card.uuid}`}
                          className="override-reason"
                          value={reasons[k] ?? ''}
                          onChange={(e) => setReasons((cur) => ({ ...cur, [k]: e.target.value }))}
                        />
                      </fieldset>
                    ) : (
                      <p className="muted">{t('notOverridable')}</p>
                    ))}
                </article>
              );
            })
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
