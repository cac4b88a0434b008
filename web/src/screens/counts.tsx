import type { Bundle } from '@medplum/fhirtypes';
import { call } from '../api.ts';
import { Section } from '../components/section.tsx';
import { type TextKey, useText } from '../i18n.ts';
import { useQuery } from '../use-query.ts';

/** Counts a manager may see (`_summary=count`: management information, never a record). */
const COUNTS: readonly { readonly key: TextKey; readonly query: string }[] = [
  { key: 'countObservations', query: 'Observation?category=laboratory&_summary=count' },
  { key: 'countReports', query: 'DiagnosticReport?_summary=count' },
  { key: 'countStudies', query: 'ImagingStudy?_summary=count' },
  { key: 'countActiveOrders', query: 'ServiceRequest?status=active&_summary=count' },
  { key: 'countDraftOrders', query: 'ServiceRequest?status=draft&_summary=count' },
];

function Count(props: { id: string; label: string; query: string }) {
  const q = useQuery(
    (signal) => call<Bundle>(`/fhir/${props.query}`, { signal }).then((b) => b.total ?? 0),
    [props.query],
  );
  return (
    <div className="tile" data-count={props.query}>
      <Section id={props.id} title={props.label} query={q}>
        {(n) => <output className="figure">{n.toLocaleString()}</output>}
      </Section>
    </div>
  );
}

/** Key figures as counts only; each tile loads on its own. */
export function Counts() {
  const t = useText();
  return (
    <div>
      <h2>{t('counts')}</h2>
      <p>{t('countsHelp')}</p>
      <div className="tiles">
        {COUNTS.map((c, i) => (
          <Count key={c.query} id={`count-${i}`} label={t(c.key)} query={c.query} />
        ))}
      </div>
    </div>
  );
}
