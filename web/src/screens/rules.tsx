import type { ConceptMap, Task } from '@medplum/fhirtypes';
import { useState } from 'react';
import { call, search } from '../api.ts';
import { ErrorNote, Section } from '../components/section.tsx';
import { useText } from '../i18n.ts';
import { useQuery } from '../use-query.ts';

interface Rule {
  id: string;
  kind: string;
  action: string;
  tests: string[];
  source: { label: string };
}
interface RuleSets {
  active: string;
  ruleSet: { name: string; rules: Rule[] };
  versions: { version: string; createdAt: string; createdBy: string; active: boolean }[];
}
interface DryRun {
  orders: number;
  byRule: { rule: string; action: string; current: number; candidate: number }[];
  changed: unknown[];
}

const UNMAPPED = '/fhir/Task?code=urn:dxhub:task-code|map-local-code&status=requested&_count=50';

/**
 * Governance (admin): the active order rule set with its versions, a dry run of an edited set over
 * the last 30 days and its activation (`/ordering/rulesets`, validated by the server: a refused set
 * changes nothing); the code mappings (FHIR ConceptMap) and the open unmapped-code Tasks.
 */
export function Rules() {
  const t = useText();
  const sets = useQuery((signal) => call<RuleSets>('/ordering/rulesets', { signal }), []);
  const maps = useQuery((signal) => search<ConceptMap>('/fhir/ConceptMap?_count=50', { signal }), []);
  const tasks = useQuery((signal) => search<Task>(UNMAPPED, { signal }), []);
  const [draft, setDraft] = useState<string>();
  const [result, setResult] = useState<{ dry?: DryRun; activated?: string; error?: Error }>({});
  const text = draft ?? (sets.data ? JSON.stringify(sets.data.ruleSet, null, 2) : '');
  const send = async (kind: 'dry' | 'activate') => {
    setResult({});
    try {
      const ruleSet = JSON.parse(text) as unknown;
      if (kind === 'dry')
        setResult({
          dry: await call<DryRun>('/ordering/rulesets/dry-run', {
            method: 'POST',
            body: JSON.stringify({ ruleSet, days: 30 }),
          }),
        });
      else {
        const r = await call<{ active: string }>('/ordering/rulesets', { method: 'PUT', body: text });
        setResult({ activated: r.active });
        sets.reload();
      }
    } catch (e) {
      setResult({ error: e as Error });
    }
  };
  return (
    <div id="rules" className="screen">
      <h2>{t('navRules')}</h2>
      <Section id="ruleset" title={t('ruleSet')} query={sets}>
        {(d) => (
          <>
            <p>
              {t('activeVersion')}: <output id="active-version">{d.active}</output> ({d.ruleSet.name},{' '}
              {d.ruleSet.rules.length})
            </p>
            <table id="rule-table">
              <thead>
                <tr>
                  <th scope="col">id</th>
                  <th scope="col">{t('type')}</th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col">{t('origin')}</th>
                </tr>
              </thead>
              <tbody>
                {d.ruleSet.rules.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">{r.id}</th>
                    <td>{r.kind}</td>
                    <td>{r.action}</td>
                    <td>{r.source.label}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <label htmlFor="ruleset-json">JSON</label>
            <textarea id="ruleset-json" rows={8} value={text} onChange={(e) => setDraft(e.target.value)} />
            <p>
              <button type="button" id="dry-run" onClick={() => send('dry')}>
                {t('dryRun')}
              </button>{' '}
              <button type="button" id="activate" onClick={() => send('activate')}>
                {t('activate')}
              </button>
            </p>
            <div id="ruleset-outcome" aria-live="polite">
              {result.error && <ErrorNote error={result.error} />}
              {result.activated && (
                <p id="activated" className="notice">
                  {t('activated')}: {result.activated}
                </p>
              )}
              {result.dry && (
                <table id="dry-run-result">
                  <caption>
                    {result.dry.orders} · {t('changed')}: {result.dry.changed.length}
                  </caption>
                  <tbody>
                    {result.dry.byRule.map((r) => (
                      <tr key={r.rule}>
                        <th scope="row">{r.rule}</th>
                        <td>{r.action}</td>
                        <td>{r.current}</td>
                        <td>{r.candidate}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </>
        )}
      </Section>
      <Section id="concept-maps" title={t('codeMaps')} query={maps}>
        {(d) => (
          <ul>
            {d.matches.map((m) => (
              <li key={m.id}>
                {m.title ?? m.name ?? m.id} ({m.group?.reduce((a, g) => a + (g.element?.length ?? 0), 0) ?? 0})
              </li>
            ))}
            {d.matches.length === 0 && <li>{t('noneYet')}</li>}
          </ul>
        )}
      </Section>
      <Section id="unmapped" title={t('unmapped')} query={tasks}>
        {(d) => (
          <ul>
            {d.matches.map((task) => (
              <li key={task.id}>{task.description ?? task.id}</li>
            ))}
            {d.matches.length === 0 && <li>{t('noneYet')}</li>}
          </ul>
        )}
      </Section>
    </div>
  );
}
