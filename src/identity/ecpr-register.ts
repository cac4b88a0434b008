import type { KnownSex } from '../core/identity/index.ts';

/** One replacement CPR as a register knows it. */
export interface ReplacementCprRecord {
  /** The number, `DDMMYYCAAG` (no hyphen). */
  readonly value: string;
  /** The FHIR identifier system (D-eCPR with the region's arc, or X-eCPR). */
  readonly system: string;
  readonly kind: 'd-ecpr' | 'x-ecpr';
  /** The real birth date when it was known at issue. */
  readonly birthDate: string | undefined;
  readonly sex: KnownSex;
  /** Whether the date part is the birth date or the creation date. */
  readonly dateBasis: 'birth-date' | 'creation-date';
  /** When it was issued (ms since the epoch). */
  readonly createdAt: number;
  /** The real CPR once the person is identified. */
  readonly linkedCpr: string | undefined;
  readonly linkedAt: number | undefined;
}

/** What is known about a person who needs a replacement CPR. */
export interface IssueRequest {
  readonly birthDate?: string;
  readonly sex?: KnownSex;
}

/** A refusal by a register, with a code callers can branch on and a reason for people. */
export class RegisterError extends Error {
  readonly code: 'invalid' | 'not-found' | 'conflict' | 'exhausted' | 'unavailable';
  constructor(code: RegisterError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A replacement-CPR register: issues unique numbers, looks them up and links them to the real CPR
 * when it becomes known. Two implementations pass the same contract suite
 * (`ecpr-register.contract.test.ts`): {@link EmbeddedEcprRegister} in dxhub's own database (the
 * default) and {@link HttpEcprRegister} for an external register service. The national eCPR
 * service (SOAP on NSP) or a region's CPR service plugs in as a third implementation; see
 * docs/identity.md.
 */
export interface EcprRegister {
  issue(request: IssueRequest): Promise<ReplacementCprRecord>;
  lookup(value: string): Promise<ReplacementCprRecord | undefined>;
  /** Records that `value` belongs to the person with `cpr`. Linking again to the same CPR is a no-op. */
  link(value: string, cpr: string): Promise<ReplacementCprRecord>;
}
