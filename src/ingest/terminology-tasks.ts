import type { BundleEntry, Task } from '@medplum/fhirtypes';
import { identifierQuery } from '../core/hl7/v2-to-fhir/v2-identifiers.ts';
import type { UnmappedLocalCode } from '../core/terminology/index.ts';

/** `Task.code` system of dxhub's work items. */
export const TASK_CODE_SYSTEM = 'urn:dxhub:task-code';
/** `Task.code` of "map this local code": a terminologist adds a ConceptMap element for it. */
export const MAP_LOCAL_CODE = 'map-local-code';
/** Identifier system of mapping Tasks; the value is `<local system>|<code>`, one open Task per code. */
export const MAP_LOCAL_CODE_TASK_SYSTEM = 'http://dxhub.dk/fhir/NamingSystem/map-local-code-task';
/** `Task.input.type` system naming the inputs `system`, `code` and `display`. */
export const TASK_INPUT_SYSTEM = 'urn:dxhub:task-input';

/** Task states that count as open (R4 task-status): a new Task is made only when none of these exists. */
export const OPEN_TASK_STATES = ['draft', 'requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold'];

/**
 * One conditional create per unmapped local code: a `requested` Task (code `map-local-code`, focus the
 * first resource that carries the code, inputs naming system, code and display) unless an open Task
 * with the same identifier exists. The identifier is derived from system and code, so the thousandth
 * message with the code adds nothing, while a code whose Task was closed without a mapping gets a
 * new one. The Task has no `for`: it is terminology work, not part of a patient's record.
 */
export function mapLocalCodeTaskEntries(unmapped: readonly UnmappedLocalCode[], authoredOn: string): BundleEntry[] {
  return unmapped.map((u) => {
    const identifier = { system: MAP_LOCAL_CODE_TASK_SYSTEM, value: `${u.system}|${u.code}` };
    const input = (name: string, value: Record<string, string>) => ({
      type: { coding: [{ system: TASK_INPUT_SYSTEM, code: name }], text: name },
      ...value,
    });
    const task: Task = {
      resourceType: 'Task',
      identifier: [identifier],
      status: 'requested',
      intent: 'order',
      priority: 'routine',
      code: {
        coding: [{ system: TASK_CODE_SYSTEM, code: MAP_LOCAL_CODE, display: 'Map a sender-local code' }],
      },
      description: `Add a ConceptMap element for local code "${u.code}"${u.display ? ` (${u.display})` : ''} of ${u.system} (NPU or LOINC target)`,
      focus: { reference: u.fullUrl },
      authoredOn,
      input: [
        input('system', { valueUri: u.system }),
        input('code', { valueCode: u.code }),
        ...(u.display ? [input('display', { valueString: u.display })] : []),
      ],
    };
    return {
      fullUrl: `urn:uuid:${crypto.randomUUID()}`,
      resource: task,
      request: {
        method: 'POST',
        url: 'Task',
        ifNoneExist: `${identifierQuery(identifier)}&status=${OPEN_TASK_STATES.join(',')}`,
      },
    };
  });
}
