import type { AuditEvent } from '@medplum/fhirtypes';
import { useEffect, useState } from 'react';
import { call, search } from '../api.ts';
import { ErrorNote, Section, When } from '../components/section.tsx';
import { useLocale, useText } from '../i18n.ts';
import type { RoleKind } from '../lib/session.ts';
import { useQuery } from '../use-query.ts';

/** A row of `GET /ops/hl7/inbox` (src/server/ingest-routes.ts `inboxView`). */
interface InboxRow {
  readonly id: number;
  readonly receivedAt: string;
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  readonly controlId: string;
  readonly messageType: string;
  readonly state: string;
  readonly reason: string | null;
  readonly attempts: number;
}

/** The parts of `GET /ops/interfaces` (src/ingest/interface-health.ts) the screen shows. */
interface InterfacesView {
  readonly at: string;
  readonly listeners: readonly {
    listener: string;
    connectionsOpen: number;
    messages: number;
    lastMessageAt: number | null;
  }[];
  readonly senders: readonly {
    sender: string;
    inbox: { total: number; queueDepth: number; deadLetters: number; lastReceivedAt: number | null };
  }[];
  readonly totals: { queueDepth: number; deadLetters: number; processingFailures: number };
}

const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/** Interface operations: HL7 dead letters with reprocess, interface and analyzer health; for admins the værdispring follow-up list. */
export function Admin(props: { role: RoleKind }) {
  const t = useText();
  const locale = useLocale();
  const inbox = useQuery((signal) => call<InboxRow[]>('/ops/hl7/inbox?state=failed&limit=100', { signal }), []);
  const health = useQuery((signal) => call<InterfacesView>('/ops/interfaces', { signal }), []);
  const [busy, setBusy] = useState<number>();
  // Live: both views refresh in the background every 10 s (the old figures stay until the new arrive).
  const { reload: reloadInbox } = inbox;
  const { reload: reloadHealth } = health;
  useEffect(() => {
    const timer = setInterval(() => {
      reloadInbox();
      reloadHealth();
    }, 10_000);
    return () => clearInterval(timer);
  }, [reloadInbox, reloadHealth]);
  const [outcome, setOutcome] = useState<{ id: number; text: string; error?: Error }>();
  const reprocess = async (id: number) => {
    setBusy(id);
    try {
      const r = await call<{ message: InboxRow }>(`/ops/hl7/inbox/${id}/reprocess`, { method: 'POST' });
      setOutcome({
        id,
        text: `${t('reprocessed')}: #${id} → ${r.message.state}${r.message.reason ? ` (${r.message.reason})` : ''}`,
      });
      inbox.reload();
      health.reload();
    } catch (e) {
      setOutcome({ id, text: '', error: e as Error });
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div className="grid">
      <Section id="dead-letters" title={t('deadLetters')} query={inbox}>
        {(rows) => (
          <>
            {outcome &&
              (outcome.error ? (
                <ErrorNote error={outcome.error} />
              ) : (
                <p role="status" id="reprocess-outcome">
                  {outcome.text}
                </p>
              ))}
            {rows.length === 0 ? (
              <p>{t('noDeadLetters')}</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">{t('received')}</th>
                    <th scope="col">{t('sender')}</th>
                    <th scope="col">{t('type')}</th>
                    <th scope="col">{t('reason')}</th>
                    <th scope="col">{t('attempts')}</th>
                    <th scope="col">
                      <span className="sr-only">{t('reprocess')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.id} data-inbox={r.id}>
                      <td>{r.id}</td>
                      <td>
                        <When at={r.receivedAt} locale={locale} />
                      </td>
                      <td>
                        {r.sendingApplication}^{r.sendingFacility}
                      </td>
                      <td>{r.messageType}</td>
                      <td className="reason">{r.reason}</td>
                      <td>{r.attempts}</td>
                      <td>
                        <button
                          type="button"
                          disabled={busy === r.id}
                          onClick={() => reprocess(r.id)}
                          aria-label={`${t('reprocess')} #${r.id}`}
                        >
                          {t('reprocess')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Section>
      <Section id="interfaces" title={t('interfaces')} query={health}>
        {(h) => (
          <>
            <p>
              {t('queue')}: <strong>{h.totals.queueDepth}</strong> · {t('deadLetters')}:{' '}
              <strong>{h.totals.deadLetters}</strong>
            </p>
            <table>
              <thead>
                <tr>
                  <th scope="col">
                    {t('listener')} / {t('sender')}
                  </th>
                  <th scope="col">{t('received')}</th>
                  <th scope="col">{t('queue')}</th>
                  <th scope="col">{t('deadLetters')}</th>
                  <th scope="col">{t('lastMessage')}</th>
                </tr>
              </thead>
              <tbody>
                {h.listeners.map((l) => (
                  <tr key={`l-${l.listener}`}>
                    <th scope="row">{l.listener}</th>
                    <td>{l.messages}</td>
                    <td />
                    <td />
                    <td>
                      <When at={iso(l.lastMessageAt)} locale={locale} />
                    </td>
                  </tr>
                ))}
                {h.senders.map((s) => (
                  <tr key={`s-${s.sender}`}>
                    <th scope="row">{s.sender}</th>
                    <td>{s.inbox.total}</td>
                    <td>{s.inbox.queueDepth}</td>
                    <td className={s.inbox.deadLetters ? 'abnormal' : undefined}>{s.inbox.deadLetters}</td>
                    <td>
                      <When at={iso(s.inbox.lastReceivedAt)} locale={locale} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Section>
      {props.role === 'admin' && <BreakGlassLog />}
    </div>
  );
}

/** Værdispring entries for review (`GET /fhir/AuditEvent?subtype=110127`, admin; docs/security.md §5). */
function BreakGlassLog() {
  const t = useText();
  const locale = useLocale();
  const log = useQuery((signal) => search<AuditEvent>('/fhir/AuditEvent?subtype=110127&_count=50', { signal }), []);
  return (
    <Section id="break-glass" title={t('breakGlass')} query={log}>
      {(d) => (d.matches.length === 0 ? <p>{t('noneYet')}</p> : <AuditTable events={d.matches} locale={locale} />)}
    </Section>
  );
}

/** AuditEvents as who / unit / what / when / reason rows (shared with the citizen's access log). */
export function AuditTable(props: { events: readonly AuditEvent[]; locale: string }) {
  const t = useText();
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{t('when')}</th>
          <th scope="col">{t('who')}</th>
          <th scope="col">{t('unitOrg')}</th>
          <th scope="col">{t('what')}</th>
          <th scope="col">{t('override')}</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((ev) => {
          const user = ev.agent?.find((a) => a.requestor);
          const org = ev.agent?.find((a) => a.who?.identifier?.system === 'urn:oid:1.2.208.176.1.1');
          const what = ev.entity?.find((x) => x.role?.code === '4')?.what?.reference ?? ev.subtype?.[0]?.code;
          const override =
            ev.subtype?.some((s) => s.code === '110127') || JSON.stringify(ev.purposeOfEvent ?? []).includes('ETREAT');
          return (
            <tr key={ev.id}>
              <td>
                <When at={ev.recorded} locale={props.locale} />
              </td>
              <td>{user?.who?.display ?? user?.who?.reference ?? user?.who?.identifier?.value}</td>
              <td>{org?.who?.identifier?.value}</td>
              <td>{what}</td>
              <td>{override ? `${t('yes')}${ev.outcomeDesc ? ` · ${ev.outcomeDesc}` : ''}` : ''}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
