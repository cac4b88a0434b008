import type { Catalogue } from './catalogue.ts';
import type { DraftOrder, Priority } from './types.ts';

/** Extension on a ServiceRequest carrying the symptom onset the appropriateness rules read. */
export const ONSET_EXTENSION = 'urn:dxhub:ordering:symptom-onset';

/** R4 request-priority → the catalogue's three priorities (asap counts as urgent). */
const PRIORITY: Readonly<Record<string, Priority>> = {
  routine: 'routine',
  urgent: 'urgent',
  asap: 'urgent',
  stat: 'stat',
};

export type DraftMapping = { ok: true; drafts: DraftOrder[] } | { ok: false; errors: string[] };

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] =>
  Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Obj[]) : [];

/**
 * Maps draft ServiceRequests (CDS Hooks `draftOrders`, or the requisition API's stored drafts) to
 * the engine's orders. An order whose code the catalogue does not know is an error naming the code:
 * evaluating it would be a silent "no warnings".
 */
export function draftsFromServiceRequests(resources: readonly unknown[], cat: Catalogue): DraftMapping {
  const errors: string[] = [];
  const drafts: DraftOrder[] = [];
  for (const [i, r] of resources.entries()) {
    const at = `draftOrders[${i}]`;
    if (typeof r !== 'object' || r === null || (r as Obj).resourceType !== 'ServiceRequest') {
      errors.push(`${at}: only ServiceRequest orders are evaluated (got ${String((r as Obj | null)?.resourceType)})`);
      continue;
    }
    const sr = r as Obj;
    const codings = arr((sr.code as Obj | undefined)?.coding);
    if (codings.length === 0) {
      errors.push(`${at}: ServiceRequest.code.coding is required`);
      continue;
    }
    const item = codings.map((c) => cat.byCoding(c.system as string, c.code as string)).find((x) => x !== undefined);
    if (!item) {
      errors.push(
        `${at}: unknown order code ${codings.map((c) => `${String(c.system)}|${String(c.code)}`).join(', ')} (not in the catalogue)`,
      );
      continue;
    }
    const priority = sr.priority === undefined ? 'routine' : PRIORITY[String(sr.priority)];
    if (!priority) {
      errors.push(`${at}: priority must be routine, urgent, asap or stat`);
      continue;
    }
    const onsetExt = arr(sr.extension).find((e) => e.url === ONSET_EXTENSION);
    const onsetText = (onsetExt?.valueDateTime ?? onsetExt?.valueDate) as string | undefined;
    const onset = onsetText === undefined ? undefined : Date.parse(onsetText);
    if (onset !== undefined && Number.isNaN(onset)) {
      errors.push(`${at}: ${ONSET_EXTENSION} is not a date`);
      continue;
    }
    drafts.push({
      id: typeof sr.id === 'string' && sr.id !== '' ? sr.id : `draft-${i}`,
      test: item.id,
      priority,
      indications: arr(sr.reasonCode).flatMap((cc) => arr(cc.coding).map((c) => String(c.code))),
      ...(onset !== undefined ? { onset } : {}),
    });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, drafts };
}
