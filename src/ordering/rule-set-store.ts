import { FhirError } from '../core/fhir/errors.ts';
import type { Catalogue } from '../core/ordering/catalogue.ts';
import { type CompiledRules, compileRules } from '../core/ordering/engine.ts';
import { validateRuleSet } from '../core/ordering/rule-validation.ts';
import { SEED_RULE_SET } from '../core/ordering/seed/rule-set.ts';
import type { RuleSet } from '../core/ordering/types.ts';
import type { Dialect } from '../store/dialect/dialect.ts';

export interface RuleSetVersion {
  readonly version: number;
  readonly name: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly active: boolean;
  readonly rules: number;
}

/** A refused rule set: 422 with one issue per reason (the previous set stays active). */
export function ruleSetRefused(errors: readonly string[]): FhirError {
  return new FhirError(
    422,
    errors.map((e) => ({ severity: 'error' as const, code: 'business-rule', diagnostics: `rule set refused: ${e}` })),
  );
}

/**
 * Versioned rule sets in `ordering_rule_set`. The active set is validated and compiled once and
 * kept in memory; a new set is validated before it is stored, so a bad set never replaces the
 * active one. The first start stores the seed set as version 1.
 */
export class RuleSetStore {
  private compiled: CompiledRules;
  private readonly db: Dialect;
  private readonly catalogue: Catalogue;

  private constructor(db: Dialect, catalogue: Catalogue, compiled: CompiledRules) {
    this.db = db;
    this.catalogue = catalogue;
    this.compiled = compiled;
  }

  static async open(db: Dialect, catalogue: Catalogue, now: () => number): Promise<RuleSetStore> {
    const rows = await db.all<{ version: number; content: string }>(
      'SELECT version, content FROM ordering_rule_set WHERE active = 1 ORDER BY version DESC LIMIT 1',
    );
    const row = rows[0];
    if (row) {
      const v = validateRuleSet(JSON.parse(row.content), catalogue);
      // A stored set was valid when stored; if the catalogue changed since, refuse to start silently without rules.
      if (!v.ok)
        throw new Error(`active ordering rule set v${row.version} no longer validates: ${v.errors.join('; ')}`);
      return new RuleSetStore(db, catalogue, compileRules(v.ruleSet, catalogue, Number(row.version)));
    }
    const store = new RuleSetStore(db, catalogue, compileRules(SEED_RULE_SET, catalogue, 0));
    await store.activate(SEED_RULE_SET, 'dxhub-seed', now());
    return store;
  }

  /** The active rules, compiled. */
  get active(): CompiledRules {
    return this.compiled;
  }

  /** Validates without storing: the compiled candidate, or the reasons it is refused. */
  candidate(input: unknown): CompiledRules {
    const v = validateRuleSet(input, this.catalogue);
    if (!v.ok) throw ruleSetRefused(v.errors);
    return compileRules(v.ruleSet, this.catalogue, this.compiled.version + 1);
  }

  /** Stores and switches on a new version; throws 422 (nothing changes) when it does not validate. */
  async activate(input: unknown, by: string, at: number): Promise<CompiledRules> {
    const c = this.candidate(input);
    const rs: RuleSet = c.ruleSet;
    const version = await this.db.transaction(async (tx) => {
      await tx.lock('dxhub:ordering_rule_set');
      const max = await tx.all<{ m: number | null }>('SELECT MAX(version) AS m FROM ordering_rule_set');
      const next = Number(max[0]?.m ?? 0) + 1;
      await tx.run('UPDATE ordering_rule_set SET active = 0 WHERE active = 1');
      await tx.run(
        'INSERT INTO ordering_rule_set (version, name, content, created_at, created_by, active) VALUES (?, ?, ?, ?, ?, 1)',
        [next, rs.name, JSON.stringify(rs), at, by],
      );
      return next;
    });
    this.compiled = compileRules(rs, this.catalogue, version);
    return this.compiled;
  }

  async versions(): Promise<RuleSetVersion[]> {
    const rows = await this.db.all<{
      version: number;
      name: string;
      content: string;
      created_at: number;
      created_by: string;
      active: number;
    }>('SELECT version, name, content, created_at, created_by, active FROM ordering_rule_set ORDER BY version DESC');
    return rows.map((r) => ({
      version: Number(r.version),
      name: r.name,
      createdAt: new Date(Number(r.created_at)).toISOString(),
      createdBy: r.created_by,
      active: Number(r.active) === 1,
      rules: (JSON.parse(r.content) as RuleSet).rules.length,
    }));
  }
}
