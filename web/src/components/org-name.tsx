import type { Organization } from '@medplum/fhirtypes';
import { createContext, type ReactNode, useContext } from 'react';
import { search } from '../api.ts';
import { useQuery } from '../use-query.ts';

const OrgNames = createContext<ReadonlyMap<string, string>>(new Map());

/**
 * Organisation names for the screens below it (one search for the region's units). A role that may
 * not read organisations sees the codes instead; nothing waits for this query.
 */
export function OrgNamesProvider(props: { children: ReactNode }) {
  const orgs = useQuery(
    (signal) =>
      search<Organization>('/fhir/Organization?_count=1000&_elements=name', { signal }).then(
        (r) => new Map(r.matches.map((o) => [`Organization/${o.id}`, o.name ?? o.id ?? ''])),
      ),
    [],
  );
  return <OrgNames.Provider value={orgs.data ?? new Map()}>{props.children}</OrgNames.Provider>;
}

/** An organisation reference as its name (its code while names load, or when they may not be read). */
export function OrgName(props: { reference?: string }) {
  const names = useContext(OrgNames);
  if (!props.reference) return <>—</>;
  const name = names.get(props.reference);
  const code = props.reference.replace(/^Organization\//, '');
  return name ? <span title={code}>{name}</span> : code;
}
