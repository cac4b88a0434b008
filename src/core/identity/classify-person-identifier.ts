import { type ParsedCpr, parseCpr } from './cpr.ts';
import type { IdentityProblemCode } from './identity-problem.ts';
import { type ParsedReplacementCpr, parseReplacementCpr } from './replacement-cpr.ts';

/** What a person-identifier string is; `invalid` carries the catalogue code and reason. */
export type PersonIdentifierClass =
  | { readonly kind: 'cpr'; readonly cpr: ParsedCpr }
  | { readonly kind: 'x-ecpr' | 'd-ecpr'; readonly replacement: ParsedReplacementCpr }
  | { readonly kind: 'invalid'; readonly code: IdentityProblemCode; readonly reason: string };

// Letters at positions 8-9 are what set a replacement CPR apart from a CPR (note §2.1).
const LETTERS_AT_8_9 = /^\d{6}-?\d[A-Za-z]{2}/;

/**
 * Classifies a patient identifier typed or received without a system: CPR, X-eCPR, D-eCPR or
 * invalid. Letters at positions 8-9 select the replacement parser, anything else the CPR parser,
 * so the reason always comes from the format the input most resembles.
 */
export function classifyPersonIdentifier(input: string): PersonIdentifierClass {
  const text = input.trim();
  if (LETTERS_AT_8_9.test(text)) {
    const replacement = parseReplacementCpr(text);
    return replacement.ok
      ? { kind: replacement.kind, replacement }
      : { kind: 'invalid', code: replacement.code, reason: replacement.reason };
  }
  const cpr = parseCpr(text);
  return cpr.ok ? { kind: 'cpr', cpr } : { kind: 'invalid', code: cpr.code, reason: cpr.reason };
}
