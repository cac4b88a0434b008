import type { Observation } from '@medplum/fhirtypes';
import { useState } from 'react';
import { call } from '../api.ts';
import { ErrorNote, Section, When } from '../components/section.tsx';
import { useLocale, useText } from '../i18n.ts';
import type { RoleKind } from '../lib/session.ts';
import { useQuery } from '../use-query.ts';

interface Held {
  task: string;
  observation?: Observation;
  reasons: string[];
  history: { id: string; effective?: string; value?: number; unit?: string; status?: string }[];
}
interface Critical {
  request: string;
  observation?: string;
  status: string;
  raisedAt: string;
  notifiedAt?: string;
  acknowledgedAt?: string;
}

const post = (path: string, body: unknown) => call(path, { method: 'POST', body: JSON.stringify(body) });

/**
 * The laboratory's review worklist (docs/results.md): held results with the reasons they were
 * held, the delta to the patient's previous result and the history; release or reject (laboratory
 * physicians; technologists read). Critical values awaiting notification, with the notification,
 * read-back and acknowledgement steps the API records.
 */
export function Review(props: { role: RoleKind }) {
  const t = useText();
  const locale = useLocale();
  const held = useQuery((signal) => call<Held[]>('/results/review?count=100', { signal }), []);
  const critical = useQuery((signal) => call<{ items: Critical[] }>('/results/critical-values', { signal }), []);
  const [problem, setProblem] = useState<Error>();
  const decides = props.role === 'lab-physician';
  const act = (path: string, body: unknown, q: { reload(): void }) => {
    setProblem(undefined);
    post(path, body).then(q.reload, setProblem);
  };
  return (
    <div id="review" className="screen">
      <h2>{t('navReview')}</h2>
      {!decides && <p className="notice">{t('readOnly')}</p>}
      {problem && <ErrorNote error={problem} />}
      <Section id="held" title={t('held')} query={held}>
        {(items) =>
          items.length === 0 ? (
            <p>{t('noneYet')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('analysis')}</th>
                  <th scope="col">{t('value')}</th>
                  <th scope="col">{t('reason')}</th>
                  <th scope="col">{t('history')}</th>
                  <th scope="col">{t('status')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((h) => {
                  const o = h.observation;
                  const v = o?.valueQuantity;
                  const prev = h.history.find((p) => p.id !== o?.id && p.value !== undefined);
                  const delta = v?.value !== undefined && prev?.value !== undefined ? v.value - prev.value : undefined;
                  return (
                    <tr key={h.task} data-task={h.task} data-observation={o?.id}>
                      <td>{o?.code?.text ?? o?.code?.coding?.[0]?.display ?? o?.code?.coding?.[0]?.code}</td>
                      <td>
                        {v?.value} {v?.unit}
                        {delta !== undefined && ` (Δ ${delta > 0 ? '+' : ''}${Math.round(delta * 100) / 100})`}
                      </td>
                      <td>
                        <ul>
                          {h.reasons.map((r) => (
                            <li key={r}>{r}</li>
                          ))}
                        </ul>
                      </td>
                      <td>
                        {h.history.slice(0, 5).map((p) => (
                          <div key={p.id}>
                            {p.value} {p.unit} <When at={p.effective} locale={locale} />
                          </div>
                        ))}
                      </td>
                      <td>
                        {o?.status}{' '}
                        {decides && (
                          <>
                            <button
                              type="button"
                              className="release"
                              onClick={() => act(`/results/review/${h.task}/release`, {}, held)}
                            >
                              {t('release')}
                            </button>{' '}
                            <button
                              type="button"
                              className="reject"
                              onClick={() => {
                                const reason = prompt(t('reason'));
                                if (reason) act(`/results/review/${h.task}/reject`, { reason }, held);
                              }}
                            >
                              {t('reject')}
                            </button>
                          </>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Section>
      <Section id="critical" title={t('criticalValues')} query={critical}>
        {(d) =>
          d.items.length === 0 ? (
            <p>{t('noneYet')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('raised')}</th>
                  <th scope="col">Observation</th>
                  <th scope="col">{t('notify')}</th>
                  <th scope="col">{t('acknowledge')}</th>
                  <th scope="col">{t('status')}</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((c) => (
                  <tr key={c.request} data-request={c.request}>
                    <td>
                      <When at={c.raisedAt} locale={locale} />
                    </td>
                    <td>{c.observation}</td>
                    <td>
                      {c.notifiedAt ? (
                        <When at={c.notifiedAt} locale={locale} />
                      ) : (
                        <button
                          type="button"
                          onClick={() => act(`/results/critical-values/${c.request}/notification`, {}, critical)}
                        >
                          {t('notify')}
                        </button>
                      )}
                    </td>
                    <td>
                      {c.acknowledgedAt ? (
                        <When at={c.acknowledgedAt} locale={locale} />
                      ) : (
                        <>
                          <button
                            type="button"
                            onClick={() => {
                              const text = prompt(t('readBack'));
                              if (text) act(`/results/critical-values/${c.request}/read-back`, { text }, critical);
                            }}
                          >
                            {t('readBack')}
                          </button>{' '}
                          <button
                            type="button"
                            onClick={() => act(`/results/critical-values/${c.request}/acknowledgement`, {}, critical)}
                          >
                            {t('acknowledge')}
                          </button>
                        </>
                      )}
                    </td>
                    <td>{c.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Section>
    </div>
  );
}
