/** Patient display and look-up helpers (pure). */
import type { Patient } from '@medplum/fhirtypes';

/** The CPR identifier system (research note identity-and-terminology §CPR). */
export const CPR_SYSTEM = 'urn:oid:1.2.208.176.1.2';

export function patientName(p: Patient): string {
  const n = p.name?.[0];
  return n?.text ?? [...(n?.given ?? []), n?.family].filter(Boolean).join(' ');
}

/** `DDMMYY-SSSS`, or a dash when the patient has no CPR. */
export function formatCpr(p: Patient): string {
  const v = p.identifier?.find((i) => i.system === CPR_SYSTEM)?.value;
  return v ? `${v.slice(0, 6)}-${v.slice(6)}` : '—';
}

/** The ten digits of a typed CPR number (with or without the dash), or undefined for anything else. */
export function cprDigits(text: string): string | undefined {
  const digits = text.replace(/[\s-]/g, '');
  return /^\d{10}$/.test(digits) ? digits : undefined;
}

/** The FHIR search for what the user typed: a CPR number (with or without the dash) or a name. */
export function patientQuery(text: string): string {
  const digits = cprDigits(text);
  return digits
    ? `/fhir/Patient?identifier=${encodeURIComponent(`${CPR_SYSTEM}|${digits}`)}&_count=20`
    : `/fhir/Patient?name=${encodeURIComponent(text.trim())}&_count=20`;
}
