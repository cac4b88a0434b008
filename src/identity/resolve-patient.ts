import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { CPR_SYSTEM, normalizeCpr } from '../core/identity/index.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import type { EcprRegister } from './ecpr-register.ts';

type Identifier = { system?: string; value?: string; use?: string };
type HumanName = { family?: string; given?: string[] };

/** How an inbound patient was resolved. */
export type Resolution =
  | { kind: 'known'; patientId: string }
  | { kind: 'created'; patientId: string; replacementCpr?: string }
  | { kind: 'needs-review'; patientId: string; replacementCpr: string; taskId: string; candidates: string[] };

const DUPLICATE_REVIEW = {
  coding: [{ system: 'urn:dxhub:task-code', code: 'review-possible-duplicate-patient' }],
  text: 'Review possible duplicate patient / Kontrollér mulig dublet af patient',
};

async function searchIds(repo: FhirRepository, params: [string, string][]): Promise<string[]> {
  const page = await repo.search(parseSearchRequest('Patient', [...params, ['_count', '20']]));
  return page.matches.map((m) => (JSON.parse(m.json) as { id: string }).id);
}

/**
 * Finds or creates the Patient for inbound data (HL7 PID, an order without a record, …):
 * - a known identifier (CPR with or without hyphen, or an eCPR) → that record;
 * - otherwise a new record with a freshly issued D-eCPR; and when an existing patient matches on
 *   family name, given name, birth date and sex, a review Task names the candidates instead of
 *   silently creating a second record or silently merging (the merge stays a human decision).
 */
export async function resolveInboundPatient(
  repo: FhirRepository,
  register: EcprRegister,
  incoming: Resource,
): Promise<Resolution> {
  const identifiers = ((incoming.identifier as Identifier[] | undefined) ?? []).filter((i) => i.value);
  for (const i of identifiers) {
    const value = i.system === CPR_SYSTEM ? (normalizeCpr(i.value!) ?? i.value!) : i.value!;
    const found = await searchIds(repo, [['identifier', `${i.system ?? ''}|${value}`]]);
    if (found.length === 1) return { kind: 'known', patientId: found[0]! };
  }
  if (identifiers.length > 0) {
    const created = await repo.transaction((w) => repo.put(w, { ...incoming, id: undefined }));
    return { kind: 'created', patientId: created.id };
  }

  const name = ((incoming.name as HumanName[] | undefined) ?? [])[0];
  const birthDate = typeof incoming.birthDate === 'string' ? incoming.birthDate : undefined;
  const gender = typeof incoming.gender === 'string' ? incoming.gender : undefined;
  const sex = gender === 'male' || gender === 'female' ? gender : 'unknown';
  const issued = await register.issue({ birthDate: birthDate?.length === 10 ? birthDate : undefined, sex });
  const identifier = { use: 'temp', system: issued.system, value: issued.value };
  let candidates: string[] = [];
  if (name?.family && birthDate && gender) {
    candidates = await searchIds(repo, [
      ['family:exact', name.family],
      ['birthdate', birthDate],
      ['gender', gender],
      ...(name.given?.[0] ? ([['given', name.given[0]]] as [string, string][]) : []),
    ]);
  }
  return repo.transaction(async (w) => {
    const created = await repo.put(w, { ...incoming, id: undefined, identifier: [identifier] });
    if (candidates.length === 0) return { kind: 'created', patientId: created.id, replacementCpr: issued.value };
    const task = await repo.put(w, {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      priority: 'urgent',
      code: DUPLICATE_REVIEW,
      description: 'Inbound data without a known identifier matches existing patients on name, birth date and sex.',
      focus: { reference: `Patient/${created.id}` },
      for: { reference: `Patient/${created.id}` },
      authoredOn: new Date(repo.clock.now()).toISOString(),
      input: candidates.map((c) => ({
        type: { text: 'possible duplicate' },
        valueReference: { reference: `Patient/${c}` },
      })),
    });
    return { kind: 'needs-review', patientId: created.id, replacementCpr: issued.value, taskId: task.id, candidates };
  });
}
