/**
 * The signed-in user, read from the access token's claims (RFC 9068 + dxhub's `role`, `org`,
 * `patient`, `fhirUser`). The server verifies the token on every call; the browser only reads it to
 * decide which screens to offer.
 */

export type RoleKind =
  | 'clinician'
  | 'lab-technologist'
  | 'lab-physician'
  | 'radiographer'
  | 'radiologist'
  | 'department-manager'
  | 'integration'
  | 'researcher'
  | 'admin'
  | 'citizen';

export interface Session {
  readonly token: string;
  readonly user: string;
  readonly name?: string;
  readonly role: RoleKind;
  readonly org?: string;
  readonly patient?: string;
  readonly fhirUser?: string;
  /** Expiry, Unix seconds. */
  readonly exp: number;
}

function base64urlDecode(s: string): string {
  const b64 = s.replaceAll('-', '+').replaceAll('_', '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The session a token describes, or an error naming what is missing. */
export function sessionFromToken(token: string, name?: string): Session {
  const part = token.split('.')[1];
  if (!part) throw new Error('the access token is not a JWT');
  const claims = JSON.parse(base64urlDecode(part)) as Record<string, unknown>;
  const str = (k: string) => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
  const role = str('role');
  const sub = str('sub');
  if (!role || !sub) throw new Error('the access token has no role or sub claim');
  return {
    token,
    user: sub,
    role: role as RoleKind,
    exp: typeof claims.exp === 'number' ? claims.exp : 0,
    ...(name ? { name } : str('name') ? { name: str('name') } : {}),
    ...(str('org') ? { org: str('org') } : {}),
    ...(str('patient') ? { patient: str('patient') } : {}),
    ...(str('fhirUser') ? { fhirUser: str('fhirUser') } : {}),
  };
}

/** Screens of the app and the roles that may open them (the server still decides every call). */
export const SCREENS = {
  patients: ['clinician', 'lab-technologist', 'lab-physician', 'radiographer', 'radiologist'],
  mine: ['citizen'],
  admin: ['integration', 'admin'],
  counts: ['department-manager', 'researcher'],
  order: ['clinician', 'lab-physician', 'radiologist'],
  review: ['lab-physician', 'lab-technologist', 'admin'],
  dashboard: ['department-manager', 'lab-technologist', 'lab-physician', 'admin', 'integration'],
  rules: ['admin'],
} as const satisfies Record<string, readonly RoleKind[]>;

export type ScreenName = keyof typeof SCREENS;

/** The screens a role may open, in menu order; the first is its home screen. */
export function screensFor(role: RoleKind): ScreenName[] {
  return (Object.keys(SCREENS) as ScreenName[]).filter((s) => (SCREENS[s] as readonly RoleKind[]).includes(role));
}

/** The værdispring header (docs/security.md §5): `<basis>; <percent-encoded reason>`. */
export function vaerdispringHeader(basis: 'vital-interest' | 'consent', reason: string): string {
  const r = reason.trim();
  if (r.length < 5 || r.length > 500) throw new Error('reason must be 5–500 characters');
  return `${basis}; ${encodeURIComponent(r)}`;
}
