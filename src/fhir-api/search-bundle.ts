import { parseReference } from '../core/fhir/index-rows.ts';
import type { SearchRequest } from '../core/fhir/search-request.ts';
import { summaryElements } from '../core/fhir/summary.ts';
import type { FhirRepository, Resource, SearchPage } from '../store/repository.ts';
import type { AccessGuard } from './access-guard.ts';

const HEAD_RE = /^\{"resourceType":"([A-Za-z]+)","id":"([^"]+)"/;

/** Type and id from the head of stored JSON text (the store always writes them first). */
function typeAndId(jsonText: string): [string, string] {
  const m = HEAD_RE.exec(jsonText);
  if (m) return [m[1]!, m[2]!];
  const r = JSON.parse(jsonText) as Resource;
  return [r.resourceType, r.id ?? ''];
}

/** Applies `_elements` / `_summary` (R4 §3.1.1.5.7–8) to a resource, marking it SUBSETTED. */
function subset(jsonText: string, req: SearchRequest): string {
  if (!req.elements && (req.summary === undefined || req.summary === 'false')) return jsonText;
  const r = JSON.parse(jsonText) as Resource;
  let keep: Set<string>;
  if (req.elements) keep = new Set(req.elements);
  else if (req.summary === 'true') keep = summaryElements(r.resourceType);
  else if (req.summary === 'text') keep = new Set(['text', 'id', 'meta']);
  else {
    keep = new Set(Object.keys(r));
    keep.delete('text');
  }
  const out: Record<string, unknown> = { resourceType: r.resourceType };
  for (const [k, v] of Object.entries(r)) {
    if (
      k === 'id' ||
      k === 'meta' ||
      keep.has(k) ||
      [...keep].some((e) => k.startsWith(e) && /^[A-Z]/.test(k.slice(e.length)))
    ) {
      out[k] = v;
    }
  }
  const meta = { ...((out.meta as Record<string, unknown>) ?? {}) };
  const tags = Array.isArray(meta.tag) ? [...meta.tag] : [];
  tags.push({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' });
  meta.tag = tags;
  out.meta = meta;
  return JSON.stringify(out);
}

async function includes(repo: FhirRepository, req: SearchRequest, matches: string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set(matches.map((m) => typeAndId(m).join('/')));
  let frontier = matches;
  for (let round = 0; round < 3 && frontier.length > 0; round++) {
    const next: string[] = [];
    const add = (jsonText: string) => {
      const key = typeAndId(jsonText).join('/');
      if (seen.has(key)) return;
      seen.add(key);
      out.push(jsonText);
      next.push(jsonText);
    };
    for (const inc of req.include) {
      if (round > 0 && !inc.iterate) continue;
      const wanted = new Map<string, Set<string>>();
      for (const m of frontier) {
        const r = JSON.parse(m) as Resource;
        if (r.resourceType !== inc.type) continue;
        for (const item of inc.def.extract(r)) {
          const ref = (item.v as { reference?: unknown }).reference;
          const p = typeof ref === 'string' ? parseReference(ref) : undefined;
          if (!p?.[0] || (inc.target && p[0] !== inc.target)) continue;
          const ids = wanted.get(p[0]) ?? new Set<string>();
          wanted.set(p[0], ids);
          ids.add(p[1]);
        }
      }
      for (const [type, ids] of wanted) for (const j of await repo.readMany(type, [...ids])) add(j);
    }
    for (const rev of req.revinclude) {
      if (round > 0 && !rev.iterate) continue;
      const targets = frontier.map(typeAndId).filter(([t]) => !rev.target || t === rev.target);
      for (const j of await repo.referencing(rev.type, rev.def.code, targets)) add(j);
    }
    frontier = next;
  }
  return out;
}

/** Renders a search page as a `searchset` Bundle with self/next links (R4 §3.1.1.2). */
export async function renderSearchBundle(
  repo: FhirRepository,
  req: SearchRequest,
  page: SearchPage,
  params: [string, string][],
  baseUrl: string,
  guard?: AccessGuard,
): Promise<string> {
  const base = params.filter(([k]) => k !== '_page');
  const selfQ = new URLSearchParams(params);
  const links: { relation: string; url: string }[] = [
    { relation: 'self', url: `${baseUrl}/${req.resourceType}${selfQ.size ? `?${selfQ}` : ''}` },
  ];
  if (page.hasNext) {
    const q = new URLSearchParams(base);
    q.set('_page', `${req.offset + req.count}.${page.snapshot}`);
    links.push({ relation: 'next', url: `${baseUrl}/${req.resourceType}?${q}` });
  }
  if (req.offset > 0) {
    const q = new URLSearchParams(base);
    q.set('_page', `${Math.max(0, req.offset - req.count)}.${page.snapshot}`);
    links.push({ relation: 'previous', url: `${baseUrl}/${req.resourceType}?${q}` });
  }
  let matches = page.matches.map((m) => m.json);
  let outcome: string | undefined;
  let total = page.total;
  if (guard) matches = (await guard.screen(matches)).filter((m) => m !== undefined);
  // Includes follow only what the principal may see; each included resource is screened too.
  let included = req.include.length || req.revinclude.length ? await includes(repo, req, matches) : [];
  if (guard) {
    included = (await guard.screen(included)).filter((m) => m !== undefined);
    const q = new URLSearchParams(params.filter(([k]) => k !== '_format'));
    const audit = await guard.auditSearch(`${req.resourceType}${q.size ? `?${q}` : ''}`);
    if (audit.reason) outcome = audit.reason;
    if (!guard.mayCount) total = undefined;
  }
  const entry = (j: string, mode: string) => {
    const [t, id] = typeAndId(j);
    return `{"fullUrl":${JSON.stringify(`${baseUrl}/${t}/${id}`)},"resource":${subset(j, req)},"search":{"mode":"${mode}"}}`;
  };
  const entries = [...matches.map((m) => entry(m, 'match')), ...included.map((m) => entry(m, 'include'))];
  const totalText = total !== undefined ? `,"total":${total}` : '';
  const notes = [
    ...req.ignored.map((p) => ({
      severity: 'warning',
      code: 'not-supported',
      diagnostics: `Ignored search parameter '${p}'`,
    })),
    ...(outcome ? [{ severity: 'information', code: 'suppressed', diagnostics: outcome }] : []),
  ];
  const issues = notes.length
    ? `,{"resource":${JSON.stringify({ resourceType: 'OperationOutcome', issue: notes })},"search":{"mode":"outcome"}}`
    : '';
  const list = entries.join(',') + (entries.length ? issues : issues.slice(1));
  return `{"resourceType":"Bundle","type":"searchset"${totalText},"link":${JSON.stringify(links)},"entry":[${list}]}`;
}
