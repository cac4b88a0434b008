import {
  type DanishRegion,
  dEcprSystem,
  normalizeCpr,
  parseReplacementCpr,
  replacementCprCandidates,
} from '../core/identity/index.ts';
import type { Dialect } from '../store/dialect/dialect.ts';
import type { Clock } from '../store/repository.ts';
import { type EcprRegister, type IssueRequest, RegisterError, type ReplacementCprRecord } from './ecpr-register.ts';

interface Row {
  value: string;
  system: string;
  kind: string;
  birth_date: string | null;
  sex: string;
  date_basis: string;
  created_at: number;
  linked_cpr: string | null;
  linked_at: number | null;
}

const COLUMNS = 'value, system, kind, birth_date, sex, date_basis, created_at, linked_cpr, linked_at';

function toRecord(r: Row): ReplacementCprRecord {
  return {
    value: r.value,
    system: r.system,
    kind: r.kind as ReplacementCprRecord['kind'],
    birthDate: r.birth_date ?? undefined,
    sex: r.sex as ReplacementCprRecord['sex'],
    dateBasis: r.date_basis as ReplacementCprRecord['dateBasis'],
    createdAt: Number(r.created_at),
    linkedCpr: r.linked_cpr ?? undefined,
    linkedAt: r.linked_at === null ? undefined : Number(r.linked_at),
  };
}

/** Normalises `DDMMYY-CAAG` / `DDMMYYCAAG` input; throws a RegisterError naming the problem. */
export function normaliseReplacementCpr(value: string): string {
  const parsed = parseReplacementCpr(value);
  if (!parsed.ok) throw new RegisterError('invalid', parsed.reason);
  return parsed.value;
}

/**
 * The replacement-CPR register in dxhub's own database (table `ecpr_register`). Issues D-eCPRs
 * for its region: the candidates come from the real birth date and sex when known, otherwise the
 * creation date (core/identity), and the primary key decides between concurrent issuers.
 */
export class EmbeddedEcprRegister implements EcprRegister {
  private readonly db: Dialect;
  private readonly region: DanishRegion;
  private readonly clock: Clock;
  constructor(db: Dialect, opts: { region: DanishRegion; clock: Clock }) {
    this.db = db;
    this.region = opts.region;
    this.clock = opts.clock;
  }

  async issue(request: IssueRequest): Promise<ReplacementCprRecord> {
    const now = this.clock.now();
    const createdOn = new Date(now).toISOString().slice(0, 10);
    const found = replacementCprCandidates({
      kind: 'd-ecpr',
      birthDate: request.birthDate,
      sex: request.sex,
      createdOn,
    });
    if (!found.ok) throw new RegisterError('invalid', found.reason);
    const system = dEcprSystem(this.region);
    const sex = request.sex ?? 'unknown';
    for (const candidate of found.candidates) {
      // The primary key arbitrates: a candidate taken meanwhile (by another process) is skipped.
      const inserted = await this.db.run(
        `INSERT INTO ecpr_register (value, system, kind, birth_date, sex, date_basis, created_at)
         VALUES (?, ?, 'd-ecpr', ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [candidate, system, request.birthDate ?? null, sex, found.dateBasis, now],
      );
      if (inserted === 1) return (await this.lookup(candidate))!;
    }
    throw new RegisterError('exhausted', `no free D-eCPR left for ${request.birthDate ?? createdOn}`);
  }

  async lookup(value: string): Promise<ReplacementCprRecord | undefined> {
    const v = normaliseReplacementCpr(value);
    const rows = await this.db.all<Row>(`SELECT ${COLUMNS} FROM ecpr_register WHERE value = ?`, [v]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async link(value: string, cpr: string): Promise<ReplacementCprRecord> {
    const v = normaliseReplacementCpr(value);
    const real = normalizeCpr(cpr);
    if (!real) throw new RegisterError('invalid', `'${cpr}' is not a valid CPR number`);
    await this.db.transaction(async (tx) => {
      await tx.lock(`ecpr:${v}`);
      const rows = await tx.all<Row>(`SELECT ${COLUMNS} FROM ecpr_register WHERE value = ?`, [v]);
      const row = rows[0];
      if (!row) throw new RegisterError('not-found', `replacement CPR ${v} is not in the register`);
      if (row.linked_cpr && row.linked_cpr !== real) {
        throw new RegisterError('conflict', `replacement CPR ${v} is already linked to another CPR`);
      }
      if (!row.linked_cpr) {
        await tx.run('UPDATE ecpr_register SET linked_cpr = ?, linked_at = ? WHERE value = ?', [
          real,
          this.clock.now(),
          v,
        ]);
      }
    });
    return (await this.lookup(v))!;
  }
}
