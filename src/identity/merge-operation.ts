import { Errors, infoOutcome } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import type { FhirRepository } from '../store/repository.ts';
import { type MergeActor, type MergeOutcome, mergePatients, unmergePatients } from './patient-merge.ts';

type Parameter = {
  name?: string;
  valueReference?: { reference?: string };
  valueIdentifier?: { system?: string; value?: string };
  valueString?: string;
};

function parameters(body: unknown): Parameter[] {
  const b = body as { resourceType?: string; parameter?: unknown };
  if (b?.resourceType !== 'Parameters') throw Errors.badRequest('The operation takes a Parameters resource');
  return Array.isArray(b.parameter) ? (b.parameter as Parameter[]) : [];
}

/** A patient named by `<role>-patient` (a reference) or `<role>-patient-identifier` (searched; must match one). */
async function patientParam(
  repo: FhirRepository,
  params: Parameter[],
  role: 'source' | 'target',
): Promise<string | undefined> {
  const ref = params.find((p) => p.name === `${role}-patient`)?.valueReference?.reference;
  if (ref) {
    const m = /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
    if (!m) throw Errors.badRequest(`${role}-patient must reference a Patient, not '${ref}'`, `${role}-patient`);
    return m[1];
  }
  const ident = params.find((p) => p.name === `${role}-patient-identifier`)?.valueIdentifier;
  if (!ident?.value) return undefined;
  const page = await repo.search(
    parseSearchRequest('Patient', [
      ['identifier', `${ident.system ?? ''}|${ident.value}`],
      ['_count', '2'],
    ]),
  );
  if (page.matches.length !== 1) {
    throw Errors.preconditionFailed(
      `${role}-patient-identifier matches ${page.matches.length === 0 ? 'no' : 'more than one'} Patient`,
    );
  }
  return (JSON.parse(page.matches[0]!.json) as { id: string }).id;
}

function result(repo: FhirRepository, out: MergeOutcome, what: string) {
  return repo.read('Patient', out.target).then((target) => ({
    status: 200,
    body: JSON.stringify({
      resourceType: 'Parameters',
      parameter: [
        {
          name: 'outcome',
          resource: infoOutcome(
            `${what}: Patient/${out.source} → Patient/${out.target}, ${out.moved.length} resources moved`,
          ),
        },
        { name: 'merge-id', valueString: out.mergeId },
        { name: 'provenance', valueReference: { reference: `Provenance/${out.provenanceId}` } },
        ...(target?.json ? [{ name: 'result', resource: JSON.parse(target.json) }] : []),
      ],
    }),
  }));
}

/** `POST Patient/$merge` (the input parameters of FHIR's Patient $merge: source-/target-patient[-identifier]). */
export async function mergeOperation(
  repo: FhirRepository,
  body: unknown,
  actor: MergeActor = {},
): Promise<{ status: number; body: string }> {
  const params = parameters(body);
  const sourceId = await patientParam(repo, params, 'source');
  const targetId = await patientParam(repo, params, 'target');
  if (!sourceId || !targetId)
    throw Errors.badRequest('$merge needs source-patient and target-patient (or their -identifier forms)');
  const reason = params.find((p) => p.name === 'reason')?.valueString;
  return result(repo, await mergePatients(repo, { sourceId, targetId, reason }, actor), 'Merged');
}

/** `POST Patient/$unmerge`: undoes a merge named by `merge-id`, or the latest merge of `source-patient`. */
export async function unmergeOperation(
  repo: FhirRepository,
  body: unknown,
  actor: MergeActor = {},
): Promise<{ status: number; body: string }> {
  const params = parameters(body);
  const mergeId = params.find((p) => p.name === 'merge-id')?.valueString;
  const sourceId = mergeId ? undefined : await patientParam(repo, params, 'source');
  if (!mergeId && !sourceId) throw Errors.badRequest('$unmerge needs merge-id or source-patient');
  const reason = params.find((p) => p.name === 'reason')?.valueString;
  return result(repo, await unmergePatients(repo, { mergeId, sourceId, reason }, actor), 'Unmerged');
}
