import type { Observation, Provenance, Task } from '@medplum/fhirtypes';
import { Errors } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import type { Evaluation } from '../core/results/index.ts';
import { STEP_TEXT } from '../core/results/index.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import { RP } from './result-facts.ts';

/** The Task code of a held result waiting for a laboratory physician. */
export const REVIEW_CODE = {
  coding: [{ system: RP, code: 'review-result', display: 'Review held result / Vurdér tilbageholdt svar' }],
};

/** The review Task of a held result: one input per reason (step, code, text, source). */
export function reviewTask(o: Observation, e: Evaluation, now: number): Task {
  return {
    resourceType: 'Task',
    id: `rp-review-${o.id}`,
    status: 'requested',
    intent: 'order',
    priority: e.critical ? 'stat' : 'routine',
    code: REVIEW_CODE,
    focus: { reference: `Observation/${o.id}` },
    ...(o.subject ? { for: o.subject } : {}),
    authoredOn: new Date(now).toISOString(),
    input: e.findings.map((f) => ({
      type: {
        coding: [{ system: `${RP}:step`, code: f.step }],
        text: `${STEP_TEXT[f.step].en} / ${STEP_TEXT[f.step].da}`,
      },
      valueString: `${f.code}: ${f.text}${f.source ? ` [${f.source}]` : ''}`,
    })),
  };
}

/**
 * A provenance of verifications: by the pipeline (one per batch, every autoverified version a
 * target; the rule set named in `policy`) or by a physician (one target).
 */
export function verificationProvenance(
  targets: readonly string[],
  now: number,
  who: { display: string; reference?: string },
  ruleSet: { id: string; version: string },
  activity: 'autoverified' | 'released' | 'rejected',
): Provenance {
  return {
    resourceType: 'Provenance',
    target: targets.map((reference) => ({ reference })),
    recorded: new Date(now).toISOString(),
    policy: [`urn:dxhub:rule-set:${ruleSet.id}:${ruleSet.version}`],
    activity: { coding: [{ system: RP, code: activity }] },
    agent: [
      {
        type: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier' }],
        },
        who,
      },
    ],
  };
}

/** One held result in the worklist. */
export interface WorklistItem {
  readonly task: Task;
  readonly observation?: Observation;
  readonly reasons: readonly string[];
}

/** Open review Tasks, oldest first, with their Observations and reasons. */
export async function heldResults(repo: FhirRepository, count = 100): Promise<WorklistItem[]> {
  const page = await repo.search(
    parseSearchRequest('Task', [
      ['code', `${RP}|review-result`],
      ['status', 'requested'],
      ['_sort', 'authored-on'],
      ['_count', String(count)],
    ]),
  );
  const out: WorklistItem[] = [];
  for (const m of page.matches) {
    const task = JSON.parse(m.json) as Task;
    const id = /^Observation\/(.+)$/.exec(task.focus?.reference ?? '')?.[1];
    const v = id ? await repo.read('Observation', id) : undefined;
    out.push({
      task,
      observation: v?.json ? (JSON.parse(v.json) as Observation) : undefined,
      reasons: (task.input ?? []).map((i) => `${i.type.text}: ${i.valueString}`),
    });
  }
  return out;
}

/** The open review Task and its Observation, or a 404 / 400 naming the problem. */
export async function openReview(
  repo: FhirRepository,
  taskId: string,
): Promise<{ task: Task; observation: Observation; version: number }> {
  const t = await repo.read('Task', taskId);
  if (!t?.json || t.deleted) throw Errors.notFound('Task', taskId);
  const task = JSON.parse(t.json) as Task;
  if (!task.code?.coding?.some((c) => c.system === RP && c.code === 'review-result'))
    throw Errors.badRequest(`Task/${taskId} is not a result review`);
  if (task.status !== 'requested') throw Errors.badRequest(`Task/${taskId} is already ${task.status}`);
  const id = /^Observation\/(.+)$/.exec(task.focus?.reference ?? '')?.[1] ?? '';
  const o = await repo.read('Observation', id);
  if (!o?.json || o.deleted) throw Errors.notFound('Observation', id);
  return { task, observation: JSON.parse(o.json) as Observation, version: o.version };
}

export const asResource = (r: object) => r as unknown as Resource;
