import type { AuditLog } from '../audit/index.ts';
import { Errors, FhirError } from '../core/fhir/errors.ts';
import { forEachReference } from '../core/fhir/references.ts';
import { newResourceId } from '../core/fhir/resource-id.ts';
import type { FhirRepository, Resource, WriteContext } from '../store/repository.ts';

type Identifier = { system?: string; value?: string; use?: string };
type Link = { other?: { reference?: string }; type?: string };

/** What a merge changed, kept so that it can be undone exactly. */
interface MergeDetail {
  moved: [type: string, id: string][];
  addedIdentifiers: Identifier[];
  sourceActive: boolean | undefined;
  reason: string | undefined;
}

/** The outcome of a merge or an undo. */
export interface MergeOutcome {
  readonly mergeId: string;
  readonly source: string;
  readonly target: string;
  readonly moved: readonly { type: string; id: string }[];
  readonly provenanceId: string;
}

const conflict = (msg: string) => new FhirError(409, [{ severity: 'error', code: 'conflict', diagnostics: msg }]);

/** Who asks for a merge or an undo, for the audit trail. */
export interface MergeActor {
  readonly audit?: AuditLog;
  /** The user id (token `sub`); `system` for automatic merges (HL7 ADT^A40). */
  readonly agent?: string;
  readonly requestId?: string;
}

/** Writes the audit entries of a merge or an undo in its transaction: one per patient concerned. */
async function auditMerge(
  w: WriteContext,
  actor: MergeActor,
  what: string,
  source: string,
  target: string,
): Promise<void> {
  if (!actor.audit) return;
  const detail = `${what}: Patient/${source} → Patient/${target}`;
  const entry = (patient: string) => ({
    action: 'update' as const,
    agent: actor.agent ?? 'system',
    patient,
    resource: `Patient/${patient}`,
    detail,
    requestId: actor.requestId,
  });
  await actor.audit.recordInTx(w.tx, [entry(source), entry(target)]);
}

/** Replaces references to `Patient/from` (relative or absolute, with or without a version) in place. */
function repoint(value: unknown, from: string, to: string): boolean {
  let changed = false;
  forEachReference(value, (holder, x) => {
    const m = /^(.*\/)?Patient\/([^/]+)(\/_history\/.+)?$/.exec(x);
    if (m && m[2] === from) {
      holder.reference = `Patient/${to}`;
      changed = true;
    }
  });
  return changed;
}

const idKey = (i: Identifier) => `${i.system ?? ''}|${i.value ?? ''}`;

async function readPatient(repo: FhirRepository, w: WriteContext, id: string): Promise<Resource> {
  const v = await repo.read('Patient', id, w);
  if (!v) throw Errors.notFound('Patient', id);
  if (v.deleted || !v.json) throw Errors.gone('Patient', id);
  return JSON.parse(v.json) as Resource;
}

function provenance(target: string[], activity: string, reason: string | undefined, at: number): Resource {
  return {
    resourceType: 'Provenance',
    target: target.map((reference) => ({ reference })),
    recorded: new Date(at).toISOString(),
    activity: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }],
      text: activity,
    },
    ...(reason ? { reason: [{ text: reason }] } : {}),
    agent: [{ who: { display: 'dxhub patient identity service' } }],
  };
}

/**
 * Merges patient `sourceId` into `targetId` in one transaction (the shape of FHIR's
 * `Patient/$merge`): every resource of the source's Patient compartment is re-pointed to the
 * target, the target takes over the source's identifiers (as `use: old`) and gets a `replaces`
 * link, the source becomes inactive with a `replaced-by` link, and a Provenance records it. A
 * search by either patient's identifiers then returns the whole history.
 */
export async function mergePatients(
  repo: FhirRepository,
  opts: { sourceId: string; targetId: string; reason?: string },
  actor: MergeActor = {},
): Promise<MergeOutcome> {
  const { sourceId, targetId } = opts;
  if (sourceId === targetId) throw Errors.badRequest('A patient cannot be merged into itself');
  return repo.transaction(async (w) => {
    await w.tx.lock(`merge:Patient/${sourceId}`);
    await w.tx.lock(`merge:Patient/${targetId}`);
    const source = await readPatient(repo, w, sourceId);
    const target = await readPatient(repo, w, targetId);
    const links = (p: Resource) => (Array.isArray(p.link) ? (p.link as Link[]) : []);
    if (links(source).some((l) => l.type === 'replaced-by')) throw conflict(`Patient/${sourceId} is already merged`);
    if (links(target).some((l) => l.type === 'replaced-by'))
      throw conflict(`Patient/${targetId} is itself merged into another patient`);

    const moved: [string, string][] = [];
    for (const r of await repo.compartment(sourceId, w)) {
      const res = JSON.parse(r.json) as Resource;
      if (repoint(res, sourceId, targetId)) {
        await repo.put(w, res);
        moved.push([r.type, r.id]);
      }
    }
    const have = new Set(((target.identifier as Identifier[]) ?? []).map(idKey));
    const added = ((source.identifier as Identifier[]) ?? [])
      .filter((i) => !have.has(idKey(i)))
      .map((i) => ({ ...i, use: 'old' }));
    await repo.put(w, {
      ...target,
      identifier: [...((target.identifier as Identifier[]) ?? []), ...added],
      link: [...links(target), { other: { reference: `Patient/${sourceId}` }, type: 'replaces' }],
    });
    await repo.put(w, {
      ...source,
      active: false,
      link: [...links(source), { other: { reference: `Patient/${targetId}` }, type: 'replaced-by' }],
    });
    const now = repo.clock.now();
    const prov = await repo.put(
      w,
      provenance([`Patient/${targetId}`, `Patient/${sourceId}`], 'patient merge', opts.reason, now),
    );
    const mergeId = newResourceId(now);
    const detail: MergeDetail = {
      moved,
      addedIdentifiers: added,
      sourceActive: typeof source.active === 'boolean' ? source.active : undefined,
      reason: opts.reason,
    };
    await w.tx.run('INSERT INTO patient_merge (id, source, target, detail, merged_at) VALUES (?, ?, ?, ?, ?)', [
      mergeId,
      sourceId,
      targetId,
      JSON.stringify(detail),
      now,
    ]);
    await auditMerge(w, actor, `patient merge ${mergeId}`, sourceId, targetId);
    return {
      mergeId,
      source: sourceId,
      target: targetId,
      moved: moved.map(([type, id]) => ({ type, id })),
      provenanceId: prov.id,
    };
  });
}

/**
 * Undoes a merge: the resources it moved go back to the source patient (those still pointing at
 * the target), the copied identifiers and both links are removed, and the source is active again.
 * Without `mergeId`, the latest merge of `sourceId` that is not undone yet.
 */
export async function unmergePatients(
  repo: FhirRepository,
  opts: { mergeId?: string; sourceId?: string; reason?: string },
  actor: MergeActor = {},
): Promise<MergeOutcome> {
  return repo.transaction(async (w) => {
    const rows = await w.tx.all<{
      id: string;
      source: string;
      target: string;
      detail: string;
      undone_at: number | null;
    }>(
      opts.mergeId
        ? 'SELECT id, source, target, detail, undone_at FROM patient_merge WHERE id = ?'
        : 'SELECT id, source, target, detail, undone_at FROM patient_merge WHERE source = ? AND undone_at IS NULL ORDER BY merged_at DESC',
      [opts.mergeId ?? opts.sourceId ?? ''],
    );
    const m = rows[0];
    if (!m)
      throw Errors.badRequest(
        `No merge to undo for ${opts.mergeId ? `merge ${opts.mergeId}` : `Patient/${opts.sourceId}`}`,
      );
    if (m.undone_at !== null) throw conflict(`Merge ${m.id} is already undone`);
    await w.tx.lock(`merge:Patient/${m.source}`);
    await w.tx.lock(`merge:Patient/${m.target}`);
    const detail = JSON.parse(m.detail) as MergeDetail;
    const back: [string, string][] = [];
    for (const [type, id] of detail.moved) {
      const v = await repo.read(type, id, w);
      if (!v?.json || v.deleted) continue;
      const res = JSON.parse(v.json) as Resource;
      if (repoint(res, m.target, m.source)) {
        await repo.put(w, res);
        back.push([type, id]);
      }
    }
    const target = await readPatient(repo, w, m.target);
    const addedKeys = new Set(detail.addedIdentifiers.map(idKey));
    const linkTo = (id: string) => (l: Link) => l.other?.reference === `Patient/${id}`;
    const targetIds = ((target.identifier as Identifier[]) ?? []).filter(
      (i) => !(i.use === 'old' && addedKeys.has(idKey(i))),
    );
    const targetLinks = ((target.link as Link[]) ?? []).filter((l) => !(l.type === 'replaces' && linkTo(m.source)(l)));
    const { identifier: _ti, link: _tl, ...targetRest } = target;
    await repo.put(w, {
      ...targetRest,
      ...(targetIds.length ? { identifier: targetIds } : {}),
      ...(targetLinks.length ? { link: targetLinks } : {}),
    } as Resource);
    const source = await readPatient(repo, w, m.source);
    const sourceLinks = ((source.link as Link[]) ?? []).filter(
      (l) => !(l.type === 'replaced-by' && linkTo(m.target)(l)),
    );
    const { link: _sl, active: _sa, ...sourceRest } = source;
    await repo.put(w, {
      ...sourceRest,
      ...(detail.sourceActive !== undefined ? { active: detail.sourceActive } : {}),
      ...(sourceLinks.length ? { link: sourceLinks } : {}),
    } as Resource);
    const now = repo.clock.now();
    const prov = await repo.put(
      w,
      provenance([`Patient/${m.source}`, `Patient/${m.target}`], 'patient unmerge', opts.reason, now),
    );
    await w.tx.run('UPDATE patient_merge SET undone_at = ? WHERE id = ?', [now, m.id]);
    await auditMerge(w, actor, `patient unmerge ${m.id}`, m.source, m.target);
    return {
      mergeId: m.id,
      source: m.source,
      target: m.target,
      moved: back.map(([type, id]) => ({ type, id })),
      provenanceId: prov.id,
    };
  });
}
