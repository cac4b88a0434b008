import { Errors } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { draftsFromServiceRequests } from '../core/ordering/draft-orders.ts';
import { type CompiledRules, evaluateOrders } from '../core/ordering/engine.ts';
import type { Finding } from '../core/ordering/types.ts';
import type { Resource } from '../store/repository.ts';
import type { OrderingService } from './ordering-service.ts';
import { loadPatientContext } from './patient-context.ts';

/** At most this many orders are replayed per dry run (the answer says when it stopped). */
const MAX_ORDERS = 1000;

type Obj = Record<string, unknown>;

export interface DryRunReport {
  readonly days: number;
  readonly currentVersion: number;
  readonly orders: number;
  readonly truncated: boolean;
  readonly skipped: number;
  readonly byRule: { rule: string; action: string; current: number; candidate: number }[];
  readonly changed: { serviceRequest: string; test: string; current: string[]; candidate: string[] }[];
}

/**
 * Replays the orders authored in the last `days` days against the active rules and a candidate
 * rule set, each with the patient's results as they were when the order was authored, and
 * reports per rule how often each would have fired and which orders would be treated differently.
 */
export async function dryRun(svc: OrderingService, candidate: CompiledRules, days: number): Promise<DryRunReport> {
  if (!Number.isInteger(days) || days < 1 || days > 366)
    throw Errors.badRequest('days must be an integer 1–366', 'days');
  const now = svc.repo.clock.now();
  const page = await svc.repo.search(
    parseSearchRequest('ServiceRequest', [
      ['authored', `ge${new Date(now - days * 86_400_000).toISOString()}`],
      ['status', 'active,completed,revoked,on-hold'],
      ['_count', String(MAX_ORDERS)],
    ]),
  );
  const current = svc.rules.active;
  const counts = new Map<string, { rule: string; action: string; current: number; candidate: number }>();
  const tally = (fs: Finding[], which: 'current' | 'candidate') => {
    for (const f of fs) {
      const e = counts.get(f.rule) ?? { rule: f.rule, action: f.action, current: 0, candidate: 0 };
      e[which]++;
      if (which === 'candidate') e.action = f.action;
      counts.set(f.rule, e);
    }
  };
  const changed: DryRunReport['changed'] = [];
  let skipped = 0;
  for (const m of page.matches) {
    const sr = JSON.parse(m.json) as Resource;
    const mapped = draftsFromServiceRequests([sr], svc.catalogue);
    const patientId = String((sr.subject as Obj | undefined)?.reference ?? '').replace(/^Patient\//, '');
    const authored = Date.parse(String(sr.authoredOn ?? ''));
    if (!mapped.ok || !patientId || Number.isNaN(authored)) {
      skipped++;
      continue;
    }
    const asOf = authored - 1;
    const evalWith = async (rules: CompiledRules) =>
      evaluateOrders(
        rules,
        mapped.drafts,
        await loadPatientContext(svc.repo, rules, { patientId, tests: mapped.drafts.map((d) => d.test), now, asOf }),
      );
    let a: Finding[];
    let b: Finding[];
    try {
      [a, b] = await Promise.all([evalWith(current), evalWith(candidate)]);
    } catch {
      // The patient was deleted or merged since: the order cannot be replayed.
      skipped++;
      continue;
    }
    tally(a, 'current');
    tally(b, 'candidate');
    const sig = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.action}`).sort();
    if (sig(a).join() !== sig(b).join() && changed.length < 100)
      changed.push({
        serviceRequest: `ServiceRequest/${sr.id}`,
        test: mapped.drafts[0]!.test,
        current: sig(a),
        candidate: sig(b),
      });
  }
  return {
    days,
    currentVersion: current.version,
    orders: page.matches.length,
    truncated: page.hasNext,
    skipped,
    byRule: [...counts.values()].sort((x, y) => x.rule.localeCompare(y.rule)),
    changed,
  };
}
