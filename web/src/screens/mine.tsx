import type { AuditEvent } from '@medplum/fhirtypes';
import { search } from '../api.ts';
import { Section } from '../components/section.tsx';
import { useLocale, useText } from '../i18n.ts';
import { useQuery } from '../use-query.ts';
import { AuditTable } from './admin.tsx';
import { PatientOverview } from './patient-overview.tsx';

/** The citizen's own record (the token's `patient`) and who looked at it (`GET /fhir/AuditEvent`). */
export function Mine(props: { patient?: string }) {
  const t = useText();
  const locale = useLocale();
  const log = useQuery((signal) => search<AuditEvent>('/fhir/AuditEvent?_count=50', { signal }), []);
  return (
    <>
      <Section id="access-log" title={t('accessLog')} query={log}>
        {(d) => (d.matches.length === 0 ? <p>{t('noneYet')}</p> : <AuditTable events={d.matches} locale={locale} />)}
      </Section>
      {props.patient && <PatientOverview patientId={props.patient} />}
    </>
  );
}
