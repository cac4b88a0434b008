import { buildCatalogue } from '../core/ordering/catalogue.ts';
import type { FhirRepository } from '../store/repository.ts';
import { OrderEventLog } from './order-events.ts';
import { OrderingService } from './ordering-service.ts';
import { RuleSetStore } from './rule-set-store.ts';

export { OrderEventLog } from './order-events.ts';
export { type Actor, OrderingService } from './ordering-service.ts';
export { RuleSetStore } from './rule-set-store.ts';

/** Opens the ordering service on a repository: the seed catalogue, the active rule set, the event log. */
export async function openOrdering(repo: FhirRepository): Promise<OrderingService> {
  const catalogue = buildCatalogue();
  const rules = await RuleSetStore.open(repo.db, catalogue, () => repo.clock.now());
  return new OrderingService({ repo, rules, events: new OrderEventLog(repo.db), catalogue });
}
