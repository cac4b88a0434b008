import type { Patient } from '@medplum/fhirtypes';
import { type FormEvent, useState } from 'react';
import { search, withheldForRelation } from '../api.ts';
import { Section } from '../components/section.tsx';
import { VaerdispringDialog } from '../components/vaerdispring-dialog.tsx';
import { useText } from '../i18n.ts';
import { patientName, patientQuery } from '../lib/patient.ts';
import { useQuery } from '../use-query.ts';

/** Find a patient by CPR or name; patients withheld for want of a relation can be found with værdispring. */
export function PatientSearch(props: { onOpen: (id: string, vaerdispring?: string) => void }) {
  const t = useText();
  const [text, setText] = useState('');
  const [asked, setAsked] = useState<{ text: string; vd?: string }>();
  const [asking, setAsking] = useState(false);
  const result = useQuery(
    asked
      ? (s) => search<Patient>(patientQuery(asked.text), { signal: s, ...(asked.vd ? { vaerdispring: asked.vd } : {}) })
      : undefined,
    [asked],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (text.trim()) setAsked({ text });
  };
  return (
    <div>
      <search>
        <form id="patient-search" className="search" onSubmit={submit}>
          <label htmlFor="patient-q">{t('findPatient')}</label>
          <input
            id="patient-q"
            name="q"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder={t('findHelp')}
            aria-describedby="patient-q-help"
            autoComplete="off"
          />
          <button type="submit" className="primary">
            {t('search')}
          </button>
          <small id="patient-q-help">{t('findHelp')}</small>
        </form>
      </search>
      {asked && (
        <Section id="patients" title={t('findPatient')} query={result}>
          {(d) => (
            <>
              {withheldForRelation(d.notes) && !asked.vd && (
                <p className="notice" role="status">
                  {t('withheld')}{' '}
                  <button type="button" onClick={() => setAsking(true)}>
                    {t('useVaerdispring')}
                  </button>
                </p>
              )}
              {d.matches.length === 0 ? (
                <p>{t('noPatients')}</p>
              ) : (
                <ul className="patients">
                  {d.matches.map((p) => (
                    <li key={p.id}>
                      <button type="button" data-patient={p.id} onClick={() => props.onOpen(p.id!, asked.vd)}>
                        {patientName(p)} <small>{p.birthDate}</small>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </Section>
      )}
      {asking && asked && (
        <VaerdispringDialog
          onCancel={() => setAsking(false)}
          onConfirm={(vd) => {
            setAsking(false);
            setAsked({ text: asked.text, vd });
          }}
        />
      )}
    </div>
  );
}
