import type { Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import { Errors } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import type { FhirRepository, WriteInterceptor } from '../store/repository.ts';
import { EXT, RP } from './result-facts.ts';
import { asResource } from './review-worklist.ts';

export const INCIDENTAL_CODE = {
  coding: [
    { system: RP, code: 'incidental-finding', display: 'Follow up incidental finding / Følg op på tilfældigt fund' },
  ],
};

/** Whether a result or report is marked as an incidental finding (extension, valueBoolean true). */
export function isIncidental(r: { extension?: { url: string; valueBoolean?: boolean }[] }): boolean {
  return (r.extension ?? []).some((e) => e.url === EXT.incidentalFinding && e.valueBoolean === true);
}

/**
 * The follow-up Task of an incidental finding for the responsible clinician: the requisition's
 * requester (Practitioner / PractitionerRole), else the ordering Organization. Open (`requested`)
 * until the clinician acknowledges it (closed loop).
 */
export function incidentalTask(
  r: { resourceType: string; id?: string; subject?: Reference },
  sr: ServiceRequest | undefined,
  organization: Reference | undefined,
  now: number,
): Task {
  const owner = sr?.requester ?? organization;
  return {
    resourceType: 'Task',
    id: `rp-incidental-${r.id}`,
    status: 'requested',
    intent: 'order',
    priority: 'urgent',
    code: INCIDENTAL_CODE,
    focus: { reference: `${r.resourceType}/${r.id}` },
    ...(r.subject ? { for: r.subject } : {}),
    ...(owner ? { owner: owner as Task['owner'] } : {}),
    authoredOn: new Date(now).toISOString(),
    description: 'Incidental finding: acknowledge and plan follow-up / Tilfældigt fund: kvittér og planlæg opfølgning',
  };
}

/** Open incidental-finding Tasks (oldest first). */
export async function openIncidentalFindings(repo: FhirRepository, count = 100): Promise<Task[]> {
  const page = await repo.search(
    parseSearchRequest('Task', [
      ['code', `${RP}|incidental-finding`],
      ['status', 'requested'],
      ['_sort', 'authored-on'],
      ['_count', String(count)],
    ]),
  );
  return page.matches.map((m) => JSON.parse(m.json) as Task);
}

/** The clinician acknowledges the finding: the Task is completed with who, when and the plan. */
export async function acknowledgeIncidental(
  repo: FhirRepository,
  taskId: string,
  who: string,
  plan: string,
  now: number,
  interceptor?: WriteInterceptor,
): Promise<Task> {
  const v = await repo.read('Task', taskId);
  if (!v?.json || v.deleted) throw Errors.notFound('Task', taskId);
  const task = JSON.parse(v.json) as Task;
  if (!task.code?.coding?.some((c) => c.system === RP && c.code === 'incidental-finding'))
    throw Errors.badRequest(`Task/${taskId} is not an incidental-finding follow-up`);
  if (task.status !== 'requested') throw Errors.badRequest(`Task/${taskId} is already ${task.status}`);
  const done: Task = {
    ...task,
    status: 'completed',
    executionPeriod: { start: task.authoredOn, end: new Date(now).toISOString() },
    note: [...(task.note ?? []), { authorString: who, time: new Date(now).toISOString(), text: plan }],
  };
  const r = await repo.transaction((w) => repo.put(w, asResource(done), { ifMatch: v.version }), interceptor);
  return JSON.parse(r.json!) as Task;
}
