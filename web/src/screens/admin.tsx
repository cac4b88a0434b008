import type { AuditEvent } from '@medplum/fhirtypes';
import { useEffect, useState } from 'react';
import { call, search } from '../api.ts';
import { ErrorNote, Section, When } from '../components/section.tsx';
import { useLocale, useText } from '../i18n.ts';
import type { RoleKind } from '../lib/session.ts';
import { useQuery } from '../use-query.ts';

/** The columns every inbox row has (src/server/ingest-routes.ts `inboxView`, `astmInboxView`). */
interface InboxRowBase {
  readonly id: number;
  readonly receivedAt: string;
  readonly state: string;
  readonly reason: string | null;
  readonly attempts: number;
}

/** A row of `GET /ops/hl7/inbox`. */
interface InboxRow extends InboxRowBase {
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  readonly controlId: string;
  readonly messageType: string;
}

/** A row of `GET /ops/astm/inbox`. */
interface AstmInboxRow extends InboxRowBase {
  readonly sender: string;
  readonly peer: string;
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
  readonly analyzers?: readonly {
    analyzer: string;
    inbox: { total: number; queueDepth: number; deadLetters: number; lastReceivedAt: number | null };
  }[];
  readonly totals: { queueDepth: number; deadLetters: number; processingFailures: number };
}

const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());

/** Interface operations: HL7 and ASTM dead letters with reprocess, interface and analyzer health; for admins the værdispring follow-up list. */
export function Admin(props: { role: RoleKind }) {
  const t = useText();
  const locale = useLocale();
  const health = useQuery((signal) => call<InterfacesView>('/ops/interfaces', { signal }), []);
  // Live: the view refreshes in the background every 10 s (the old figures stay until the new arrive).
  const { reload: reloadHealth } = health;
  useEffect(() => {
    const timer = setInterval(reloadHealth, 10_000);
    return () => clearInterval(timer);
  }, [reloadHealth]);
  const row = (key: string, name: string, inbox: NonNullable<InterfacesView['analyzers']>[number]['inbox']) => (
    <tr key={key}>
      <th scope="row">{name}</th>
      <td>{inbox.total}</td>
      <td>{inbox.queueDepth}</td>
      <td className={inbox.deadLetters ? 'abnormal' : undefined}>{inbox.deadLetters}</td>
      <td>
        <When at={iso(inbox.lastReceivedAt)} locale={locale} />
      </td>
    </tr>
  );
  return (
    <div className="grid">
      <DeadLetters<InboxRow>
        id="dead-letters"
        outcomeId="reprocess-outcome"
        title={t('deadLetters')}
        kind="HL7"
        path="/ops/hl7/inbox"
        onChange={reloadHealth}
        columns={[
          { head: t('sender'), cell: (r) => `${r.sendingApplication}^${r.sendingFacility}` },
          { head: t('type'), cell: (r) => r.messageType },
        ]}
      />
      <DeadLetters<AstmInboxRow>
        id="astm-dead-letters"
        outcomeId="astm-reprocess-outcome"
        title={t('astmDeadLetters')}
        kind="ASTM"
        path="/ops/astm/inbox"
        onChange={reloadHealth}
        columns={[
          { head: t('sender'), cell: (r) => r.sender },
          { head: t('peer'), cell: (r) => r.peer },
        ]}
      />
      <Section id="interfaces" title={t('interfaces')} query={health}>
        {(h) => (
          <>
            <p>
              {t('queue')}: <strong>{h.totals.queueDepth}</strong> · {t('failedMessages')}:{' '}
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
                  <th scope="col">{t('failedMessages')}</th>
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
                {h.senders.map((s) => row(`s-${s.sender}`, s.sender, s.inbox))}
                {(h.analyzers ?? []).map((a) => row(`a-${a.analyzer}`, `ASTM · ${a.analyzer || '?'}`, a.inbox))}
              </tbody>
            </table>
          </>
        )}
      </Section>
      {props.role === 'admin' && <BreakGlassLog />}
    </div>
  );
}

/**
 * One inbox's dead letters (`<path>?state=failed`), refreshed every 10 s, each with a reprocess
 * button; `columns` are the inbox's own between the time received and the reason.
 */
function DeadLetters<R extends InboxRowBase>(props: {
  id: string;
  outcomeId: string;
  title: string;
  /** Names the inbox in the buttons' accessible names (the two inboxes number their rows alike). */
  kind: string;
  path: string;
  onChange: () => void;
  columns: readonly { head: string; cell: (r: R) => string }[];
}) {
  const t = useText();
  const locale = useLocale();
  const inbox = useQuery((signal) => call<R[]>(`${props.path}?state=failed&limit=100`, { signal }), [props.path]);
  const { reload } = inbox;
  useEffect(() => {
    const timer = setInterval(reload, 10_000);
    return () => clearInterval(timer);
  }, [reload]);
  const [busy, setBusy] = useState<number>();
  const [outcome, setOutcome] = useState<{ id: number; text: string; error?: Error }>();
  const reprocess = async (id: number) => {
    setBusy(id);
    try {
      const r = await call<{ message: R }>(`${props.path}/${id}/reprocess`, { method: 'POST' });
      setOutcome({
        id,
        text: `${t('reprocessed')}: #${id} → ${r.message.state}${r.message.reason ? ` (${r.message.reason})` : ''}`,
      });
      reload();
      props.onChange();
    } catch (e) {
      setOutcome({ id, text: '', error: e as Error });
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <Section id={props.id} title={props.title} query={inbox}>
      {(rows) => (
        <>
          {outcome &&
            (outcome.error ? (
              <ErrorNote error={outcome.error} />
            ) : (
              <p role="status" id={props.outcomeId}>
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
                  {props.columns.map((c) => (
                    <th scope="col" key={c.head}>
                      {c.head}
                    </th>
                  ))}
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
                    {props.columns.map((c) => (
                      <td key={c.head}>{c.cell(r)}</td>
                    ))}
                    <td className="reason">{r.reason}</td>
                    <td>{r.attempts}</td>
                    <td>
                      <button
                        type="button"
                        disabled={busy === r.id}
                        onClick={() => reprocess(r.id)}
                        aria-label={`${t('reprocess')} ${props.kind} #${r.id}`}
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
  );
}

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
